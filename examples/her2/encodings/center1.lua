-- center1.lua - how centre 1 (training and internal test set) writes its
-- data, mapped onto the study's common feature set. Centre 2's file maps its
-- own spellings onto the same names; docs/encodings.md explains each field.
return {
  centre = "Centre 1",
  na = {""},                       -- centre 1 leaves a missing cell empty
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "postmenopausal", column = "menopause", kind = "binary", yes = {"post"}, no = {"pre"},
     label = "Postmenopausal"},
    {name = "size_mm", column = "tumor_size_mm", kind = "numeric", range = {1, 150}, label = "Tumour size (mm)"},
    {name = "fgt", column = "fgt", kind = "ordinal", levels = {{"a"}, {"b"}, {"c"}, {"d"}},
     label = "Fibroglandular tissue (a-d)"},
    {name = "bpe", column = "bpe", kind = "ordinal",
     levels = {{"minimal"}, {"mild"}, {"moderate"}, {"marked"}}, label = "Background enhancement"},
    -- shape and margin describe masses: a non-mass lesion is "non-mass" in
    -- both, so that level is dropped (all zeros) and the lesion type is
    -- encoded once, as nonmass
    {name = "nonmass", column = "lesion_type", kind = "binary", yes = {"non-mass"}, no = {"mass"},
     label = "Non-mass enhancement"},
    {name = "shape", column = "shape", kind = "onehot",
     levels = {"oval", "round", "irregular", {"nme", "non-mass"}}, drop = "nme", label = "Shape"},
    {name = "margin", column = "margin", kind = "onehot",
     levels = {"circumscribed", "irregular", "spiculated", {"nme", "non-mass"}}, drop = "nme", label = "Margin"},
    {name = "enhancement", column = "internal_enhancement", kind = "onehot",
     levels = {"homogeneous", "heterogeneous", "rim"}, label = "Internal enhancement"},
    {name = "tic", column = "tic_type", kind = "ordinal", levels = {{"I"}, {"II"}, {"III"}},
     label = "TIC type (I-III)"},
    {name = "t2", column = "t2_signal", kind = "ordinal", levels = {{"hypo"}, {"iso"}, {"hyper"}},
     label = "T2 signal"},
    {name = "adc", column = "adc", kind = "numeric", range = {0.3, 3.0}, label = "ADC (10^-3 mm2/s)"},
    {name = "edema", column = "peritumoral_edema", kind = "binary", yes = {"yes"}, no = {"no"},
     label = "Peritumoral edema"},
    {name = "multifocal", column = "multifocal", kind = "binary", yes = {"yes"}, no = {"no"},
     label = "Multifocal/multicentric"},
    {name = "lymph_nodes", column = "axillary_ln", kind = "binary", yes = {"positive"}, no = {"negative"},
     label = "Axillary lymph nodes"},
    {name = "skin", column = "skin_change", kind = "binary", yes = {"yes"}, no = {"no"}, label = "Skin changes"},
    {name = "nipple", column = "nipple_change", kind = "binary", yes = {"yes"}, no = {"no"},
     label = "Nipple changes"},
  },
  -- fitted on the training rows only, then applied unchanged to every set
  impute = {["*"] = "mode", age = "median", size_mm = "median", adc = "median"},
  outcomes = {
    her2 = {column = "her2_status", kind = "category", label = "HER2 status",
            levels = {positive = {"positive"}, low = {"low"}, zero = {"zero"}},
            order = {"positive", "low", "zero"}},
    dfs_months = {column = "dfs_months", kind = "numeric", range = {0, 200}},
    dfs_event = {column = "dfs_event", kind = "binary", yes = {"1"}, no = {"0"}, label = "DFS event"},
  },
}

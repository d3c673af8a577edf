-- center2.lua - how centre 2 (the external test set) writes its data,
-- mapped onto the same feature names as centre 1: sizes in cm, FGT and BPE
-- as 1-4, ADC in 10^-6 mm2/s, Y/N and 1/0 for yes/no, HER2 as the IHC score.
return {
  centre = "Centre 2",
  na = {"", "NA", "n/a"},          -- centre 2's export spells missing three ways
  features = {
    {name = "age", column = "Age", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "postmenopausal", column = "Menopausal_status", kind = "binary",
     yes = {"postmenopausal"}, no = {"premenopausal"}, label = "Postmenopausal"},
    {name = "size_mm", column = "Size_cm", kind = "numeric", scale = 10, range = {1, 150},
     label = "Tumour size (mm)"},
    {name = "fgt", column = "FGT", kind = "ordinal", levels = {{"1"}, {"2"}, {"3"}, {"4"}},
     label = "Fibroglandular tissue (a-d)"},
    {name = "bpe", column = "BPE", kind = "ordinal", levels = {{"1"}, {"2"}, {"3"}, {"4"}},
     label = "Background enhancement"},
    {name = "shape", column = "Shape", kind = "onehot",
     levels = {"oval", "round", "irregular", {"nme"}}, label = "Shape"},
    {name = "margin", column = "Margin", kind = "onehot",
     levels = {"circumscribed", "irregular", "spiculated", {"nme"}}, label = "Margin"},
    {name = "enhancement", column = "Enhancement", kind = "onehot",
     levels = {"homogeneous", "heterogeneous", "rim"}, label = "Internal enhancement"},
    {name = "tic", column = "TIC", kind = "ordinal", levels = {{"1"}, {"2"}, {"3"}},
     label = "TIC type (I-III)"},
    {name = "t2", column = "T2", kind = "ordinal", levels = {{"low"}, {"iso"}, {"high"}},
     label = "T2 signal"},
    {name = "adc", column = "ADC_1e6", kind = "numeric", scale = 0.001, range = {0.3, 3.0},
     label = "ADC (10^-3 mm2/s)"},
    {name = "edema", column = "Peritumoral_edema", kind = "binary", yes = {"y"}, no = {"n"},
     label = "Peritumoral edema"},
    {name = "multifocal", column = "Multifocal", kind = "binary", yes = {"1"}, no = {"0"},
     label = "Multifocal/multicentric"},
    {name = "lymph_nodes", column = "ALN", kind = "binary", yes = {"yes"}, no = {"no"},
     label = "Axillary lymph nodes"},
    {name = "skin", column = "Skin", kind = "binary", yes = {"y"}, no = {"n"}, label = "Skin changes"},
    {name = "nipple", column = "Nipple", kind = "binary", yes = {"y"}, no = {"n"}, label = "Nipple changes"},
  },
  -- centre 2 is an external test set: the study imputes it with centre 1's
  -- training statistics, so these rules matter only if it is ever trained on
  impute = {["*"] = "mode", age = "median", size_mm = "median", adc = "median"},
  outcomes = {
    her2 = {column = "HER2", kind = "category",
            levels = {positive = {"3+", "2+/ISH+"}, low = {"1+", "2+/ISH-"}, zero = {"0"}},
            order = {"positive", "low", "zero"}},
    dfs_months = {column = "DFS_days", kind = "numeric", scale = 1 / 30.4375, range = {0, 200}},
    dfs_event = {column = "Recurrence", kind = "binary", yes = {"y"}, no = {"n"}},
  },
}

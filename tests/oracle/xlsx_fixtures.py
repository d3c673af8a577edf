#!/usr/bin/python3
# xlsx_fixtures.py - Excel workbooks written by other programs, for
# tests/lua/test_xlsx.lua. Run with Debian's python3 (python3-openpyxl):
#   /usr/bin/python3 tests/oracle/xlsx_fixtures.py tests/fixtures/xlsx
# 1. clinical.xlsx: openpyxl (shared strings, numbers, dates, booleans,
#    empty cells and rows, a second sheet); expected.csv lists what each
#    cell holds as openpyxl reads it back (the oracle).
# 2. handmade.xlsx: parts written by hand as Excel and LibreOffice write
#    them but openpyxl does not: inline strings, rich-text runs, phonetic
#    guides, error cells, formula results, cells without references, the
#    1904 date system.
# 3. gbsg.xlsx: the gbsg cohort (R survival, tests/fixtures/data/gbsg.csv)
#    as a workbook, to compare with read_csv of the same data.
# 4. damaged workbooks for the error tests.
import csv, datetime, os, sys, zipfile
import openpyxl

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/xlsx"
os.makedirs(out, exist_ok=True)

# 1 -----------------------------------------------------------------------
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Patients"
rows = [
    ["Patient identifier at the referring centre", "Age at diagnosis (years)", "HER2 status (IHC/ISH)", "Tumour size (mm)", "Date of baseline MRI", "Multifocal"],
    ["BR-0001", 54, "positive", 0.1, datetime.date(2020, 1, 15), True],
    ["BR-0002", None, "negative", 1e-20, datetime.date(2021, 3, 1), False],
    [],
    ["BR-0004", 71.5, None, 23.25, None, None],
    ["BR-0005", 48, 'low, "2+" ISH-', 123456789012345, datetime.date(1900, 3, 1), True],
    ["BR-0006", 0.30000000000000004, "NA", -0.0, datetime.date(2024, 2, 29), False],
]
for r in rows:
    ws.append(r)
ws2 = wb.create_sheet("Codebook")
ws2["B3"] = "code"
ws2["C3"] = "meaning"
ws2["B4"] = 1
ws2["C4"] = "zero"
wb.save(os.path.join(out, "clinical.xlsx"))
# the oracle: what openpyxl reads back, as text (dates as Excel serials)
wb = openpyxl.load_workbook(os.path.join(out, "clinical.xlsx"))
ws = wb["Patients"]
epoch = datetime.datetime(1899, 12, 30)
with open(os.path.join(out, "clinical_expected.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["row", "col", "kind", "value"])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            v = c.value
            if v is None:
                continue
            if isinstance(v, bool):
                w.writerow([c.row, c.column, "bool", "TRUE" if v else "FALSE"])
            elif isinstance(v, datetime.datetime):
                w.writerow([c.row, c.column, "num", repr((v - epoch).days + (v - epoch).seconds / 86400)])
            elif isinstance(v, (int, float)):
                w.writerow([c.row, c.column, "num", repr(float(v))])
            else:
                w.writerow([c.row, c.column, "text", v])

# 2 -----------------------------------------------------------------------
CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
def workbook(date1904=False, sheets=(("Data", "rId7"),)):
    s = "".join('<sheet name="%s" sheetId="%d" r:id="%s"/>' % (n, i + 1, r) for i, (n, r) in enumerate(sheets))
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    return ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">%s<sheets>%s</sheets></workbook>' % (pr, s))
WBRELS = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/other.xml"/></Relationships>"""
SST = """<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>id</t></si><si><t>value</t></si><si><r><rPr><b/></rPr><t>rich </t></r><r><t xml:space="preserve">text</t></r></si><si><t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh></si><si><t>status</t></si></sst>"""
def sheet(body):
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData>%s</sheetData></worksheet>' % body)
HAND = sheet(
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>4</v></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>inline one</t></is></c><c r="B2"><v>1.5</v></c><c r="C2" t="b"><v>1</v></c></row>'
    '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" t="e"><v>#DIV/0!</v></c><c r="C3" t="b"><v>0</v></c></row>'
    '<row r="5"><c t="s"><v>3</v></c><c><f>B2*2</f><v>3</v></c><c t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>'
    '<row><c r="A6" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c><c r="B6" s="3"><v>2.5E-3</v></c></row>')
OTHER = sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>when</t></is></c></row><row r="2"><c r="A2"><v>0</v></c></row>')
def write_zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
base = {"[Content_Types].xml": CT, "_rels/.rels": RELS, "xl/_rels/workbook.xml.rels": WBRELS,
        "xl/sharedStrings.xml": SST, "xl/worksheets/sheet1.xml": HAND, "xl/worksheets/other.xml": OTHER}
write_zip(os.path.join(out, "handmade.xlsx"),
          dict(base, **{"xl/workbook.xml": workbook(True, (("Data", "rId7"), ("Dates 1904", "rId8")))}))

# 4 -----------------------------------------------------------------------
bad_index = sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="18"><c r="C18" t="s"><v>99</v></c></row>')
write_zip(os.path.join(out, "bad_sst.xlsx"), dict(base, **{"xl/workbook.xml": workbook(), "xl/worksheets/sheet1.xml": bad_index}))
twice = sheet('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="A1" t="s"><v>1</v></c></row>')
write_zip(os.path.join(out, "twice.xlsx"), dict(base, **{"xl/workbook.xml": workbook(), "xl/worksheets/sheet1.xml": twice}))
broken = sheet('<row r="1"><c r="A1" t="s"><v>0</v></c>')[:-30]
write_zip(os.path.join(out, "broken_xml.xlsx"), dict(base, **{"xl/workbook.xml": workbook(), "xl/worksheets/sheet1.xml": broken}))
write_zip(os.path.join(out, "no_workbook.xlsx"), {"[Content_Types].xml": CT, "word/document.xml": "<w/>"})

# 3 -----------------------------------------------------------------------
here = os.path.dirname(os.path.abspath(__file__))
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "gbsg"
with open(os.path.join(here, "..", "fixtures", "data", "gbsg.csv")) as f:
    for i, r in enumerate(csv.reader(f)):
        ws.append(r if i == 0 else [float(x) if "." in x else int(x) for x in r])
wb.save(os.path.join(out, "gbsg.xlsx"))

"""Field constructors and public code lists for the corpus declarations (``_decl_*``); a leaf module. Provenance
rules for every bound and category set: see :mod:`._build`.
"""
from __future__ import annotations


US_STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
             "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY").split()
US_STATE_NAMES = ["Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
                  "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
                  "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
                  "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
                  "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
                  "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
                  "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming"]
YES_NO = ["yes", "no"]


def num(name, lo, hi, src, integer=False, nullable=False, desc=""):
    d = {"name": name, "type": "integer" if integer else "number"}
    if desc:
        d["description"] = desc
    d["constraints"] = {"required": not nullable, "minimum": lo, "maximum": hi}
    d["x-synthgen"] = {"kind": "numeric", "nullable": nullable, "integer": integer, "bounds_source": f"public:{src}"}
    return d


def cat(name, cats, src, nullable=False, ordered=False, desc=""):
    cats = list(cats)
    typ = "integer" if all(isinstance(c, int) for c in cats) else "string"
    d = {"name": name, "type": typ}
    if desc:
        d["description"] = desc
    d["constraints"] = {"required": not nullable, "enum": cats}
    d["x-synthgen"] = {"kind": "categorical", "nullable": nullable, "categories_source": f"public:{src}",
                       "ordered": ordered}
    return d


def date(name, lo, hi, src, nullable=False, desc=""):
    d = {"name": name, "type": "date"}
    if desc:
        d["description"] = desc
    d["constraints"] = {"required": not nullable, "minimum": lo, "maximum": hi}
    d["x-synthgen"] = {"kind": "datetime", "nullable": nullable, "bounds_source": f"public:{src}"}
    return d


def ident(name, desc="row number / identifier / free text: never learned"):
    return {"name": name, "type": "string", "description": desc, "constraints": {"required": False},
            "x-synthgen": {"kind": "identifier", "synthesize": "drop"}}


def doc(name, description, fields, rows_max, rows_src):
    return {"name": name, "description": description, "fields": fields,
            "x-synthgen": {"format": "synthgen-table-schema/1", "rows": {"max": rows_max,
                                                                         "source": f"public:{rows_src}"}}}

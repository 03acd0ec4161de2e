#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Validates a Prometheus text exposition (format 0.0.4) and prints its samples.

    prom_parse.py FILE

Checks what a Prometheus server would refuse or misread: metric and label names, label syntax
and escapes, values, at most one HELP and one TYPE per metric and the TYPE before its first
sample, every sample with a TYPE, a metric's lines kept together, no series twice, counters
named *_total and never negative, a final newline. On success prints one line per sample,
'NAME{LABELS} VALUE' with the labels sorted by name (no braces without labels), and exits 0;
otherwise prints 'line N: reason' on stderr and exits 1.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_labels(s, i):
    """Parses '{k="v",...}' from s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad(f"bad label name at column {i + 1}")
        key = m.group(0)
        if key.startswith("__"):
            raise Bad(f"label name '{key}' is reserved")
        if key in labels:
            raise Bad(f"label '{key}' twice")
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad(f"label '{key}': expected '=\"'")
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad(f"label '{key}': unterminated value")
            c = s[i]
            if c == "\\":
                esc = s[i + 1:i + 2]
                if esc not in ('\\', '"', "n"):
                    raise Bad(f"label '{key}': bad escape '\\{esc}'")
                val.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        labels[key] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise Bad(f"label '{key}': expected ',' or '}}' after the value")


def parse_value(v):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", v):
        raise Bad(f"bad value '{v}'")
    return float(v)


def fmt_value(x):
    if math.isnan(x) or math.isinf(x) or x != int(x):
        return repr(x)
    return str(int(x))


def check(text):
    if not text.endswith("\n"):
        raise Bad("the text does not end with a newline")
    types, helps, done, series, out = {}, set(), set(), set(), []
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                    continue  # a plain comment
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise Bad(f"bad metric name '{name}' in {parts[1]}")
                if name in done:
                    raise Bad(f"{parts[1]} for '{name}' after its lines ended")
                if name != current and current is not None:
                    done.add(current)
                current = name
                if parts[1] == "HELP":
                    if name in helps:
                        raise Bad(f"second HELP for '{name}'")
                    helps.add(name)
                    continue
                if name in types:
                    raise Bad(f"second TYPE for '{name}'")
                if any(k[0] == name for k in series):
                    raise Bad(f"TYPE for '{name}' after its first sample")
                t = parts[3] if len(parts) > 3 else ""
                if t not in TYPES:
                    raise Bad(f"unknown type '{t}' for '{name}'")
                if t == "counter" and not name.endswith("_total"):
                    raise Bad(f"counter '{name}' is not named *_total")
                types[name] = t
                continue
            m = NAME.match(line)
            if not m:
                raise Bad("a sample line must start with a metric name")
            name, i = m.group(0), m.end()
            labels = {}
            if line[i:i + 1] == "{":
                labels, i = parse_labels(line, i)
            rest = line[i:]
            if not rest.startswith(" "):
                raise Bad(f"'{name}': expected a space before the value")
            fields = rest.split()
            if not 1 <= len(fields) <= 2:
                raise Bad(f"'{name}': expected a value and an optional timestamp")
            value = parse_value(fields[0])
            if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
                raise Bad(f"'{name}': bad timestamp '{fields[1]}'")
            if name not in types:
                raise Bad(f"sample of '{name}' without a TYPE")
            if name != current:
                raise Bad(f"sample of '{name}' among the lines of '{current}'")
            if types[name] == "counter" and not value >= 0:
                raise Bad(f"counter '{name}' is {fields[0]}")
            key = (name, tuple(sorted(labels.items())))
            if key in series:
                raise Bad(f"series {name}{labels} twice")
            series.add(key)
            lbl = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"')
                                        .replace("\n", "\\n")) for k, v in key[1])
            out.append(f"{name}{{{lbl}}} {fmt_value(value)}" if lbl else
                       f"{name} {fmt_value(value)}")
        except (Bad, IndexError) as e:
            raise Bad(f"line {n}: {e}: {line!r}") from None
    if not out:
        raise Bad("no sample at all")
    return out


def main():
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
        print("\n".join(check(text)))
    except (Bad, UnicodeDecodeError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

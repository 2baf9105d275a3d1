"""Strict parser for the Prometheus text exposition format (version 0.0.4).

Only the standard library is used. The parser is deliberately strict: any
line it does not understand raises ParseError, so that a malformed output of
`pprof_exporter reduce` makes the calling test fail instead of being skipped.
"""

import math
import re

_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ParseError(Exception):
    pass


class Sample:
    """One series: metric name, ordered labels, value; line = 1-based index."""

    def __init__(self, name, labels, value, line):
        self.name = name
        self.labels = labels  # list of (name, value), in output order
        self.value = value
        self.line = line

    def label(self, key):
        for k, v in self.labels:
            if k == key:
                return v
        return None

    def labels_dict(self):
        return dict(self.labels)

    def __repr__(self):
        inner = ",".join('%s=%r' % kv for kv in self.labels)
        return "%s{%s} %r (line %d)" % (self.name, inner, self.value, self.line)


class Exposition:
    def __init__(self):
        self.help = {}  # family -> help text (unescaped)
        self.type = {}  # family -> type
        self.samples = []  # in output order

    def series(self, name, **labels):
        """Samples named `name` whose labels include all of `labels`."""
        out = []
        for s in self.samples:
            if s.name != name:
                continue
            d = s.labels_dict()
            if all(d.get(k) == v for k, v in labels.items()):
                out.append(s)
        return out

    def value(self, name, **labels):
        """The value of the single series matching; raises if not exactly one."""
        found = self.series(name, **labels)
        if len(found) != 1:
            raise AssertionError(
                "expected exactly one series %s%r, found %d: %r"
                % (name, labels, len(found), found))
        return found[0].value


def _parse_float(text, lineno):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise ParseError("line %d: bad sample value %r" % (lineno, text))
    return float(text)


def _unescape_help(text):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "\\n":
            out.append("\\" if text[i + 1] == "\\" else "\n")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_labels(line, pos, lineno):
    """Parses `{a="b",...}` starting at line[pos] == '{'; returns (labels, pos)."""
    assert line[pos] == "{"
    pos += 1
    labels = []
    seen = set()
    while True:
        if pos >= len(line):
            raise ParseError("line %d: unterminated label set" % lineno)
        if line[pos] == "}":
            return labels, pos + 1
        m = _LABEL_NAME_RE.match(line, pos)
        if not m:
            raise ParseError("line %d: bad label name at column %d: %r"
                             % (lineno, pos + 1, line))
        key = m.group(0)
        pos = m.end()
        if line[pos:pos + 2] != '="':
            raise ParseError("line %d: expected =\" after label %s" % (lineno, key))
        pos += 2
        value = []
        while True:
            if pos >= len(line):
                raise ParseError("line %d: unterminated label value" % lineno)
            c = line[pos]
            if c == '"':
                pos += 1
                break
            if c == "\\":
                if pos + 1 >= len(line):
                    raise ParseError("line %d: dangling backslash" % lineno)
                e = line[pos + 1]
                if e == "\\":
                    value.append("\\")
                elif e == '"':
                    value.append('"')
                elif e == "n":
                    value.append("\n")
                else:
                    raise ParseError("line %d: invalid escape \\%s in label %s"
                                     % (lineno, e, key))
                pos += 2
                continue
            if c == "\n":
                raise ParseError("line %d: raw newline in label value" % lineno)
            value.append(c)
            pos += 1
        if key in seen:
            raise ParseError("line %d: duplicate label %s" % (lineno, key))
        seen.add(key)
        labels.append((key, "".join(value)))
        if pos < len(line) and line[pos] == ",":
            pos += 1
        elif pos < len(line) and line[pos] == "}":
            continue
        else:
            raise ParseError("line %d: expected , or } after label %s" % (lineno, key))


def parse(text):
    """Parses exposition text (str); returns an Exposition."""
    exp = Exposition()
    if text and not text.endswith("\n"):
        raise ParseError("output does not end with a newline")
    for lineno, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] == "HELP":
                name = parts[2]
                if not _NAME_RE.fullmatch(name):
                    raise ParseError("line %d: bad HELP metric name %r" % (lineno, name))
                if name in exp.help:
                    raise ParseError("line %d: second HELP for %s" % (lineno, name))
                exp.help[name] = _unescape_help(parts[3] if len(parts) > 3 else "")
            elif len(parts) >= 3 and parts[1] == "TYPE":
                name = parts[2]
                if not _NAME_RE.fullmatch(name):
                    raise ParseError("line %d: bad TYPE metric name %r" % (lineno, name))
                if len(parts) != 4 or parts[3] not in _TYPES:
                    raise ParseError("line %d: bad TYPE line %r" % (lineno, line))
                if name in exp.type:
                    raise ParseError("line %d: second TYPE for %s" % (lineno, name))
                if any(s.name == name for s in exp.samples):
                    raise ParseError("line %d: TYPE for %s after its samples" % (lineno, name))
                exp.type[name] = parts[3]
            # Other comments are allowed by the format.
            continue
        m = _NAME_RE.match(line)
        if not m:
            raise ParseError("line %d: bad metric name: %r" % (lineno, line))
        name = m.group(0)
        pos = m.end()
        labels = []
        if pos < len(line) and line[pos] == "{":
            labels, pos = _parse_labels(line, pos, lineno)
        rest = line[pos:]
        if not rest.startswith(" "):
            raise ParseError("line %d: expected a space before the value: %r" % (lineno, line))
        fields = rest.split()
        if len(fields) not in (1, 2):
            raise ParseError("line %d: trailing garbage: %r" % (lineno, line))
        value = _parse_float(fields[0], lineno)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise ParseError("line %d: bad timestamp %r" % (lineno, fields[1]))
        exp.samples.append(Sample(name, labels, value, lineno))
    return exp

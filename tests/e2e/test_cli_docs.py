"""The mdomain command's three descriptions agree: docs/cli.md, the man page docs/mdomain.1 and `mdomain --help`
list the same verbs and the same options (globally and per verb), and so do the verb and option tables of the
source; the man page renders without groff warnings."""
import os
import re
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI_MD = os.path.join(REPO, "docs", "cli.md")
MAN = os.path.join(REPO, "docs", "mdomain.1")

# An option: --long-name or -x, not part of a word such as http-01 or P-256.
OPTION_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")
GLOBAL = "(global)"


def options_in(text):
    return set(OPTION_RE.findall(text))


class Description:
    """What one source says: its verbs (aliases too), and the options of each verb and the global ones."""

    def __init__(self, name):
        self.name = name
        self.verbs = set()
        self.options = {GLOBAL: set()}

    def add_verb(self, verb, options_text=""):
        self.verbs.add(verb)
        self.options.setdefault(verb, set()).update(options_in(options_text))

    def verb_options(self, verb, global_options):
        """The verb's own options: those a verb section names that are not global (those are references)."""
        return self.options.get(verb, set()) - global_options

    def all_options(self):
        return set().union(*self.options.values())


# ---------------------------------------------------------------------------------------------- the sources

def _md_sections(text, level):
    """{heading: body} of the markdown headings of one level ("## " or "### ")."""
    parts = re.split(r"^%s(.*)$" % re.escape(level), text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _md_first_cells(body):
    """The first cells of a markdown table's rows (the header and separator rows left out)."""
    cells = []
    for line in body.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*(option|-+)\s*\|", line):
            cells.append(line.split("|")[1])
    return " ".join(cells)


def _verbs_of_heading(heading):
    """"`list`, `show NAME`" -> ["list", "show"]; "`drive [NAME...]` (alias `renew`)" -> ["drive"]."""
    verbs = re.findall(r"(?<!alias )`([a-z][a-z0-9]*)", heading)
    return [v for i, v in enumerate(verbs) if v not in verbs[:i]]


def cli_md():
    with open(CLI_MD) as fh:
        text = fh.read()
    d = Description("docs/cli.md")
    top = _md_sections(text, "## ")
    d.options[GLOBAL] = options_in(_md_first_cells(top["Global options"]))
    for heading, body in _md_sections(top["Verbs"], "### ").items():
        for verb in _verbs_of_heading(heading):
            d.add_verb(verb, heading + " " + _md_first_cells(body))
        d.verbs.update(re.findall(r"alias `(\w+)`", heading))
    return d


def _roff_plain(text):
    """The man page's text with the escapes that matter here undone: \\- is -, fonts and \\& dropped."""
    text = text.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
    return re.sub(r"\\f[BIRP]", "", text)


def _man_sections(lines, macro):
    """[(heading, [lines])] of the .SH or .SS sections in lines."""
    sections = []
    for line in lines:
        if line.startswith(macro + " "):
            sections.append((line[len(macro) + 1:].strip().strip('"'), []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def _man_tags(lines):
    """The tags of .TP/.TQ paragraphs: the line after each."""
    return " ".join(lines[i + 1] for i, line in enumerate(lines[:-1]) if line in (".TP", ".TQ"))


def man_page():
    with open(MAN) as fh:
        lines = _roff_plain(fh.read()).splitlines()
    d = Description("docs/mdomain.1")
    sections = dict(_man_sections(lines, ".SH"))
    d.options[GLOBAL] = options_in(_man_tags(sections["OPTIONS"]))
    for heading, body in _man_sections(sections["VERBS"], ".SS"):
        for verb in [seg.split()[0] for seg in heading.split(",")]:
            d.add_verb(verb, heading + " " + _man_tags(body))
        d.verbs.update(re.findall(r"alias (\w+)", heading))
    return d


def _help_blocks(text):
    """{title: text} of the help's blocks: a line at column 0 "title: ..." and the indented lines after it."""
    blocks, title = {}, None
    for line in text.splitlines():
        m = re.match(r"^([a-z][a-z ]*):(.*)$", line)
        if m:
            title = m.group(1)
            blocks[title] = m.group(2) + "\n"
        elif title and line.startswith(" "):
            blocks[title] += line + "\n"
        else:
            title = None
    return blocks


def help_text(md_build):
    res = subprocess.run([os.path.join(md_build, "mdomain"), "--help"], stdout=subprocess.PIPE, text=True)
    assert res.returncode == 0
    blocks = _help_blocks(res.stdout)
    d = Description("mdomain --help")
    d.options[GLOBAL] = options_in(blocks.pop("global options"))
    for line in blocks.pop("verbs").splitlines():
        if re.match(r"^  [a-z]", line):
            d.add_verb(line.split()[0])
        d.verbs.update(re.findall(r"alias: (\w+)", line))
    blocks.pop("exit codes", None)
    blocks.pop("usage", None)
    for title, body in blocks.items():
        d.add_verb(title, body)
    return d


def source_tables():
    """The verbs of src/cli/main.c's table, the options of src/cli/cli_opts.c's getopt tables."""
    with open(os.path.join(REPO, "src", "cli", "main.c")) as fh:
        verbs = set(re.findall(r'\{\s*"(\w+)",\s*cli_verb_', fh.read()))
    with open(os.path.join(REPO, "src", "cli", "cli_opts.c")) as fh:
        src = fh.read()
    longs = re.findall(r'\{\s*"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument', src)
    shorts = re.search(r'getopt_long\(argc, argv, "([^"]+)"', src).group(1).replace(":", "")
    return verbs, {"--" + o for o in longs} | {"-" + c for c in shorts}


# ---------------------------------------------------------------------------------------------- comparing

def _differences(what, sets):
    """Lines naming each item that some sources have and others lack."""
    out = []
    for item in sorted(set().union(*sets.values())):
        lacking = [name for name, s in sets.items() if item not in s]
        if lacking:
            having = [name for name, s in sets.items() if item in s]
            out.append("%s %s: in %s, missing in %s" % (what, item, ", ".join(having), ", ".join(lacking)))
    return out


def _descriptions(md_build):
    return [cli_md(), man_page(), help_text(md_build)]


def test_descriptions_found():
    """The parsers see what is there (a parser that finds nothing would make the comparisons pass)."""
    for d in (cli_md(), man_page()):
        assert {"add", "list", "show", "drive", "renew", "revoke", "remove", "account", "a2md"} <= d.verbs, d.name
        assert {"-d", "--dir", "--acme", "--json", "--help", "--version"} <= d.options[GLOBAL], d.name
        assert {"--key", "--install-cmd"} <= d.options["add"] and "--force" in d.options["drive"], d.name


def test_same_verbs(md_build):
    descriptions = _descriptions(md_build)
    sets = {d.name: d.verbs for d in descriptions}
    sets["src/cli/main.c"] = source_tables()[0]
    assert not _differences("verb", sets), "\n".join(_differences("verb", sets))


def test_same_options(md_build):
    descriptions = _descriptions(md_build)
    sets = {d.name: d.all_options() for d in descriptions}
    sets["src/cli/cli_opts.c"] = source_tables()[1]
    problems = _differences("option", sets)
    global_options = set().union(*(d.options[GLOBAL] for d in descriptions))
    problems += _differences("global option", {d.name: d.options[GLOBAL] for d in descriptions})
    for verb in sorted(set().union(*(d.verbs for d in descriptions))):
        problems += _differences("%s option" % verb, {d.name: d.verb_options(verb, global_options)
                                                      for d in descriptions})
    assert not problems, "\n".join(problems)


def test_man_page_renders():
    """groff reads the page without a warning; `man -l` would show it (sections present)."""
    res = subprocess.run(["groff", "-man", "-ww", "-z", MAN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    with open(MAN) as fh:
        first = fh.readline()
        text = first + fh.read()
    assert first.startswith('.\\" ')
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "VERBS", "EXIT STATUS", "ENVIRONMENT", "FILES",
                    "EXAMPLES", "SEE ALSO"):
        assert re.search(r"^\.SH %s$" % section, text, re.M), section

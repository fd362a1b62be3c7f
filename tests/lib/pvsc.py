#!/usr/bin/env python3
"""pvsc.py - check an example .pvsc (the ParaView GUI's server configuration) and print the
command it makes the GUI run.

    python3 pvsc.py FILE reverse|ssh [NAME=VALUE...]

Both examples have one <Server> with a csrc:// (reverse connection) resource whose port is
the PV_SERVER_PORT option's default, a <CommandStartup> running ssh, options with a label and a
default each (a Range's default within it), every $VAR$ of the command declared (or one that
ParaView itself defines) and every option used, and a comment that explains each option users
edit. What the command must look like depends on the kind:

    reverse   examples/paraview-reverse.pvsc: ssh -o BatchMode=yes $LOGIN$ sbatch ...
              --pv-forward=:$PV_SERVER_PORT$ ...
    ssh       examples/paraview-ssh.pvsc: ssh -o BatchMode=yes -o ExitOnForwardFailure=yes
              -R SOCK:localhost:$PV_SERVER_PORT$ $LOGIN$ srun --pv-forward=SOCK ...
              pvserver --reverse-connection ; rm -f SOCK

Prints the command's argv, one argument a line, with the defaults and the given NAME=VALUE
substituted; or "pvsc: REASON" lines on stderr and exit 1.
"""
import re
import sys
import xml.etree.ElementTree as ET

# Variables ParaView defines itself for a server's command.
PREDEFINED = {"PV_SERVER_PORT", "PV_CLIENT_HOST", "PV_CONNECT_ID", "PV_SERVER_HOST", "PV_VERSION",
              "PV_USERNAME", "PV_APPLICATION_DIR"}
VAR = r"\$([A-Za-z_][A-Za-z0-9_]*)\$"


def check_reverse(args, need):
    need(args[:3] == ["-o", "BatchMode=yes", "$LOGIN$"],
         "the command does not start with -o BatchMode=yes $LOGIN$")
    need(len(args) > 3 and args[3] == "sbatch", "the remote command is not sbatch")
    need(any(re.fullmatch(r"--pv-forward(=:\$PV_SERVER_PORT\$)?", a) for a in args),
         "no --pv-forward=:$PV_SERVER_PORT$ argument")


def check_ssh(args, need):
    need(args[:4] == ["-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"],
         "the command does not start with -o BatchMode=yes -o ExitOnForwardFailure=yes")
    if not need(len(args) > 7 and args[4] == "-R", "no -R SOCK:localhost:$PV_SERVER_PORT$ $LOGIN$ srun"):
        return
    m = re.fullmatch(r"(/.+|\$HOME_ON_LOGIN\$/.+):localhost:\$PV_SERVER_PORT\$", args[5])
    need(args[6] == "$LOGIN$" and args[7] == "srun", "-R ... is not followed by $LOGIN$ srun")
    if need(m, "-R %r is not SOCK:localhost:$PV_SERVER_PORT$" % args[5]):
        sock = m.group(1)
        need("--pv-forward=" + sock in args, "srun's --pv-forward is not the socket of -R (%s)" % sock)
        need(args[-4:] == [";", "rm", "-f", sock], "the command does not end with ; rm -f %s" % sock)
        need(["pvserver", "--reverse-connection"] == args[-6:-4], "no pvserver --reverse-connection")


# kind: (options the file must have, of them those its comment must explain, the command check)
KINDS = {
    "reverse": (("LOGIN", "PV_SERVER_PORT", "ACCOUNT", "PARTITION", "NODES"),
                ("LOGIN", "ACCOUNT", "PARTITION", "NODES"), check_reverse),
    "ssh": (("LOGIN", "HOME_ON_LOGIN", "PV_SERVER_PORT", "ACCOUNT", "PARTITION", "NODES"),
            ("LOGIN", "HOME_ON_LOGIN", "ACCOUNT", "PARTITION", "NODES"), check_ssh),
}


def main(argv):
    if len(argv) < 3 or argv[2] not in KINDS:
        print("usage: pvsc.py FILE reverse|ssh [NAME=VALUE...]", file=sys.stderr)
        return 2
    path, (must_have, must_explain, check_command) = argv[1], KINDS[argv[2]]
    overrides = dict(a.split("=", 1) for a in argv[3:])
    errors = []

    def need(cond, what):
        if not cond:
            errors.append(what)
        return cond

    try:
        root = ET.parse(path).getroot()   # a "--" inside a comment is malformed XML, too
    except ET.ParseError as e:
        print("pvsc: %s is not well-formed XML: %s" % (path, e), file=sys.stderr)
        return 1
    need(root.tag == "Servers", "root element is <%s>, not <Servers>" % root.tag)
    servers = root.findall("Server")
    if not need(len(servers) == 1, "%d <Server> elements, expected 1" % len(servers)):
        servers.append(ET.Element("Server"))
    srv = servers[0]
    need(srv.get("name"), "the server has no name")
    m = re.fullmatch(r"csrc://([^:/]+):(\d+)", srv.get("resource", ""))
    need(m, "resource %r is not a reverse connection csrc://HOST:PORT" % srv.get("resource"))
    need(re.fullmatch(r"-?\d+", srv.get("timeout", "0")), "timeout %r is not a whole number" % srv.get("timeout"))
    start = srv.find("CommandStartup")
    if not need(start is not None and srv.find("ManualStartup") is None,
                "no <CommandStartup> (or also a <ManualStartup>)"):
        start = ET.Element("CommandStartup")

    opts = {}
    for o in start.findall("Options/Option"):
        name, kids = o.get("name"), list(o)
        need(name and o.get("label"), "an option without name or label")
        if not need(len(kids) == 1 and kids[0].tag in ("String", "Range", "Boolean", "Enumeration"),
                    "option %s: expected one String/Range/Boolean/Enumeration" % name):
            continue
        default = kids[0].get("default")
        need(default is not None, "option %s has no default" % name)
        if kids[0].tag == "Range" and default is not None:
            need(kids[0].get("type") == "int", "option %s: Range of type %s, expected int"
                 % (name, kids[0].get("type")))
            lo, hi = int(kids[0].get("min")), int(kids[0].get("max"))
            need(lo <= int(default) <= hi, "option %s: default %s outside %d-%d" % (name, default, lo, hi))
        opts[name] = default
    for must in must_have:
        need(must in opts, "no option %s" % must)
    if m and "PV_SERVER_PORT" in opts:
        need(m.group(2) == opts["PV_SERVER_PORT"], "resource port %s differs from PV_SERVER_PORT's "
             "default %s" % (m.group(2), opts["PV_SERVER_PORT"]))
    text = open(path).read()
    for must in must_explain:
        need(re.search(r"^\s+%s\s+\S" % must, text, re.M), "the comment does not explain %s" % must)

    cmd = start.find("Command")
    need(cmd is not None and cmd.get("exec") == "ssh", "the command is not ssh")
    args = [a.get("value") for a in start.findall("Command/Arguments/Argument")]
    need(all(a is not None for a in args), "an <Argument> without value")
    args = [a or "" for a in args]
    used = set()
    for a in args:
        for v in re.findall(VAR, a):
            used.add(v)
            need(v in opts or v in PREDEFINED, "argument %r uses $%s$, which is not declared" % (a, v))
    for o in opts:
        need(o in used, "option %s is never used in the command" % o)
    check_command(args, need)
    for k in overrides:
        need(k in opts, "override %s: no such option" % k)

    if errors:
        for e in errors:
            print("pvsc: " + e, file=sys.stderr)
        return 1
    values = dict(opts, **overrides)
    for a in ["ssh"] + args:
        a = re.sub(VAR, lambda v: values.get(v.group(1), v.group(0)), a)
        if "\n" in a:
            print("pvsc: an argument spans lines: %r" % a, file=sys.stderr)
            return 1
        print(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

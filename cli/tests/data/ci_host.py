"""Runs the repository's CI integrations the way their hosts would, as far as that is possible
without the hosts (used by cli/tests/ci_gates.rs).

  ci_host.py github ACTION_YML WORKSPACE BIN_DIR    -> runs the composite action's steps
  ci_host.py gitlab TEMPLATE_YML PROJECT_DIR BIN_DIR -> runs the template's sluice-lint job

Both first check the file's keys against the host's documented metadata (required keys, known
keys, allowed values), then run each shell step with bash and the host's environment variables
simulated. `cargo`, `sudo` and `apt-get` are replaced by stubs on PATH that record their command
lines: the stub cargo links the binary under test (BIN_DIR/sluice) where `cargo install --root R`
would put it. Steps that use other actions are not run; their inputs
are recorded. Prints one JSON document describing what ran.
"""

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ERRORS = []


def fail(msg):
    ERRORS.append(msg)


def temp_dir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def stubs(bin_dir, log):
    d = temp_dir("ci-host-stubs-")
    cargo = f"""#!/bin/bash
echo "cargo $*" >> {log}
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    *) shift ;;
  esac
done
[ -n "$root" ] || {{ echo "stub cargo: install without --root" >&2; exit 2; }}
mkdir -p "$root/bin" && ln -sf {bin_dir}/sluice "$root/bin/sluice"
"""
    for name, body in [
        ("cargo", cargo),
        ("sudo", f'#!/bin/bash\necho "sudo $*" >> {log}\n'),
        ("apt-get", f'#!/bin/bash\necho "apt-get $*" >> {log}\n'),
    ]:
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(body)
        os.chmod(p, 0o755)
    return d


# --- GitHub Actions -------------------------------------------------------------------------

# Action metadata syntax (docs.github.com, "Metadata syntax for GitHub Actions").
ACTION_KEYS = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
BRANDING_COLORS = {"white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"}
STEP_KEYS = {"id", "if", "name", "uses", "run", "shell", "with", "env", "working-directory", "continue-on-error"}


def check_action(doc):
    for k in doc:
        if k not in ACTION_KEYS:
            fail(f"action.yml: unknown top-level key {k}")
    for k in ("name", "description", "runs"):
        if k not in doc:
            fail(f"action.yml: missing required key {k}")
    for name, i in (doc.get("inputs") or {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            fail(f"input id {name} is not a valid identifier")
        if "description" not in i:
            fail(f"input {name}: description is required")
    runs = doc.get("runs", {})
    if runs.get("using") != "composite":
        fail("runs.using must be composite")
    for name, o in (doc.get("outputs") or {}).items():
        if "description" not in o or "value" not in o:
            fail(f"output {name}: a composite action's output needs description and value")
    b = doc.get("branding") or {}
    if b and b.get("color") not in BRANDING_COLORS:
        fail(f"branding.color {b.get('color')} is not allowed")
    ids = set()
    for s in runs.get("steps", []):
        for k in s:
            if k not in STEP_KEYS:
                fail(f"step {s.get('name')}: unknown key {k}")
        if ("run" in s) == ("uses" in s):
            fail(f"step {s.get('name')}: exactly one of run and uses")
        if "run" in s and "shell" not in s:
            fail(f"step {s.get('name')}: a composite run step needs shell")
        if "id" in s:
            if s["id"] in ids:
                fail(f"duplicate step id {s['id']}")
            ids.add(s["id"])


class Ctx:
    def __init__(self, values):
        self.values = values

    def lookup(self, path):
        if path not in self.values:
            fail(f"expression refers to {path}, which the simulation does not provide")
            return ""
        return self.values[path]


def evaluate(expr, ctx):
    """The subset of the GitHub expression language the action uses: lookups, string literals,
    ==, !=, &&, || and always()."""
    expr = expr.strip()
    for op in ("||", "&&"):
        parts = split_top(expr, op)
        if len(parts) > 1:
            vals = [evaluate(p, ctx) for p in parts]
            if op == "||":
                return next((v for v in vals if truthy(v)), vals[-1])
            return vals[-1] if all(truthy(v) for v in vals) else next(v for v in vals if not truthy(v))
    for op in ("==", "!="):
        parts = split_top(expr, op)
        if len(parts) == 2:
            a, b = (str(evaluate(p, ctx)) for p in parts)
            return (a == b) if op == "==" else (a != b)
    if expr == "always()":
        return True
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1]
    if re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
        return ctx.lookup(expr)
    fail(f"unsupported expression {expr}")
    return ""


def split_top(expr, op):
    out, depth, cur, i, quote = [], 0, "", 0, False
    while i < len(expr):
        c = expr[i]
        if c == "'":
            quote = not quote
        if not quote and expr.startswith(op, i):
            out.append(cur)
            cur = ""
            i += len(op)
            continue
        cur += c
        i += 1
    out.append(cur)
    return out


def truthy(v):
    return v not in ("", False, None, 0, "0") if not isinstance(v, bool) else v


def substitute(text, ctx):
    def one(m):
        v = evaluate(m.group(1), ctx)
        return "true" if v is True else "false" if v is False else str(v)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def run_github(action_yml, workspace, bin_dir):
    doc = yaml.safe_load(open(action_yml))
    check_action(doc)
    runner_temp = temp_dir("runner-temp-")
    log = os.path.join(runner_temp, "commands.log")
    stub_dir = stubs(bin_dir, log)
    summary = os.path.join(runner_temp, "step_summary.md")
    open(summary, "w").close()
    with_inputs = json.loads(os.environ.get("ACTION_INPUTS", "{}"))
    values = {
        "runner.temp": runner_temp,
        "runner.os": "Linux",
        "github.server_url": "https://github.com",
        "github.action_repository": "OWNER/sluice",
        "github.action_ref": "v1",
        "github.workspace": workspace,
    }
    for name, i in (doc.get("inputs") or {}).items():
        values[f"inputs.{name}"] = str(with_inputs.get(name, i.get("default", "")))
    values["steps.cache.outputs.cache-hit"] = ""
    ran, skipped, uses = [], [], []
    failed = False
    for s in doc["runs"]["steps"]:
        ctx = Ctx(values)
        cond = s.get("if")
        # Without always(), a step runs only while every earlier step succeeded.
        ok = (not failed) or (cond is not None and "always()" in cond)
        if ok and cond is not None:
            ok = truthy(evaluate(cond, ctx))
        if not ok:
            skipped.append(s.get("name"))
            continue
        if "uses" in s:
            uses.append({"uses": s["uses"], "with": {k: substitute(str(v), ctx) for k, v in (s.get("with") or {}).items()}})
            continue
        output = os.path.join(runner_temp, f"output-{len(ran)}")
        open(output, "w").close()
        env = dict(os.environ)
        env.update(
            {
                "PATH": stub_dir + os.pathsep + env.get("PATH", ""),
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "GITHUB_WORKSPACE": workspace,
                "GITHUB_STEP_SUMMARY": summary,
                "GITHUB_OUTPUT": output,
                "RUNNER_TEMP": runner_temp,
                "RUNNER_OS": "Linux",
            }
        )
        for k, v in (s.get("env") or {}).items():
            env[k] = substitute(str(v), ctx)
        script = substitute(s["run"], ctx)
        # `shell: bash` runs `bash --noprofile --norc -eo pipefail {0}`.
        p = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
        )
        outputs = dict(line.split("=", 1) for line in open(output).read().splitlines() if "=" in line)
        if "id" in s:
            for k, v in outputs.items():
                values[f"steps.{s['id']}.outputs.{k}"] = v
        ran.append({"name": s.get("name"), "exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr, "outputs": outputs})
        if p.returncode != 0:
            failed = True
    action_outputs = {
        name: substitute(str(o.get("value", "")), Ctx(values)) for name, o in (doc.get("outputs") or {}).items()
    }
    return {
        "errors": ERRORS,
        "ran": ran,
        "skipped": skipped,
        "uses": uses,
        "outputs": action_outputs,
        "summary": open(summary).read(),
        "commands": open(log).read() if os.path.exists(log) else "",
        "job_failed": failed,
    }


# --- GitLab CI ------------------------------------------------------------------------------

# Job keywords of the .gitlab-ci.yml reference (docs.gitlab.com/ci/yaml).
JOB_KEYS = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage", "dast_configuration",
    "dependencies", "environment", "extends", "hooks", "identity", "id_tokens", "image", "inherit", "interruptible",
    "manual_confirmation", "needs", "pages", "parallel", "release", "resource_group", "retry", "rules", "run",
    "script", "secrets", "services", "stage", "tags", "timeout", "trigger", "variables", "when",
}
GLOBAL_KEYS = {"default", "include", "stages", "variables", "workflow", "spec"}
ARTIFACT_KEYS = {"paths", "exclude", "expire_in", "expose_as", "name", "public", "access", "reports", "untracked", "when"}
ARTIFACT_WHEN = {"on_success", "on_failure", "always"}
REPORT_KEYS = {
    "accessibility", "annotations", "api_fuzzing", "browser_performance", "coverage_report", "codequality",
    "container_scanning", "coverage_fuzzing", "cyclonedx", "dast", "dependency_scanning", "dotenv", "junit",
    "load_performance", "metrics", "requirements", "repository_xray", "sast", "secret_detection", "terraform",
}


def check_gitlab(doc):
    jobs = {}
    for k, v in doc.items():
        if k in GLOBAL_KEYS:
            continue
        if not isinstance(v, dict):
            fail(f"{k}: a job must be a mapping")
            continue
        jobs[k] = v
        for key in v:
            if key not in JOB_KEYS:
                fail(f"job {k}: unknown keyword {key}")
        a = v.get("artifacts") or {}
        for key in a:
            if key not in ARTIFACT_KEYS:
                fail(f"job {k}: unknown artifacts keyword {key}")
        if a.get("when", "on_success") not in ARTIFACT_WHEN:
            fail(f"job {k}: artifacts:when {a.get('when')}")
        for key in a.get("reports") or {}:
            if key not in REPORT_KEYS:
                fail(f"job {k}: unknown report type {key}")
        for r in v.get("rules") or []:
            if not set(r) <= {"if", "changes", "exists", "when", "allow_failure", "variables", "needs", "interruptible"}:
                fail(f"job {k}: unknown rules keys {set(r)}")
        c = v.get("cache")
        if c is not None and not (isinstance(c, dict) and set(c) <= {"key", "paths", "untracked", "unprotect", "when", "policy", "fallback_keys"}):
            fail(f"job {k}: cache {c}")
        for key in ("script", "before_script", "after_script"):
            if key in v and not (isinstance(v[key], list) and all(isinstance(x, str) for x in v[key])):
                fail(f"job {k}: {key} must be a list of strings")
    for k, v in jobs.items():
        if not k.startswith(".") and "script" not in resolve(jobs, k) and "trigger" not in v:
            fail(f"job {k}: script is required")
    return jobs


def resolve(jobs, name):
    job = jobs[name]
    base = {}
    ext = job.get("extends")
    for parent in [ext] if isinstance(ext, str) else (ext or []):
        if parent not in jobs:
            fail(f"job {name} extends unknown {parent}")
            continue
        base = deep_merge(base, resolve(jobs, parent))
    return deep_merge(base, {k: v for k, v in job.items() if k != "extends"})


def deep_merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def rule_matches(expr, env):
    m = re.fullmatch(r'\s*\$(\w+)\s*(==|!=)\s*(?:"([^"]*)"|\$(\w+))\s*', expr)
    if not m:
        fail(f"unsupported rules:if {expr}")
        return False
    left = env.get(m.group(1), "")
    right = m.group(3) if m.group(3) is not None else env.get(m.group(4), "")
    return (left == right) == (m.group(2) == "==")


def run_gitlab(template, project, bin_dir):
    doc = yaml.safe_load(open(template))
    jobs = check_gitlab(doc)
    job_name = os.environ.get("GITLAB_JOB", "sluice-lint")
    job = resolve(jobs, job_name)
    tmp = temp_dir("gitlab-")
    log = os.path.join(tmp, "commands.log")
    stub_dir = stubs(bin_dir, log)
    env = dict(os.environ)
    env.update({"PATH": stub_dir + os.pathsep + env.get("PATH", ""), "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": project})
    for k, v in (doc.get("variables") or {}).items():
        env[k] = str(v)
    for k, v in (job.get("variables") or {}).items():
        env[k] = str(v)
    # Project or pipeline variables (the include's `variables:`) override the template's defaults.
    env.update(json.loads(os.environ.get("GITLAB_VARIABLES", "{}")))
    rules = job.get("rules")
    runs = rules is None or any("if" in r and rule_matches(r["if"], env) for r in rules)
    result = {"errors": ERRORS, "job": job_name, "ran": runs, "image": job.get("image"), "artifacts": job.get("artifacts")}
    if runs:
        # The shell executor runs before_script and script in one bash session with `set -eo pipefail`.
        script = "set -eo pipefail\n" + "\n".join(job.get("before_script", []) + job.get("script", []))
        p = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=project, env=env, capture_output=True, text=True)
        result.update({"exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr})
    result["commands"] = open(log).read() if os.path.exists(log) else ""
    return result


def main():
    kind, path, workdir, bin_dir = sys.argv[1:5]
    out = run_github(path, workdir, bin_dir) if kind == "github" else run_gitlab(path, workdir, bin_dir)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

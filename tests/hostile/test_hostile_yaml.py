"""Hostile dataset YAML: an alias bomb, non-text class names, a huge file — each a clear DatasetError, fast and
without allocating much memory (issue 17, item 2)."""

import json
import subprocess
import sys
import textwrap

import pytest

from grace_core.data.yolo import MAX_YAML_BYTES, load_yaml, names_from_yaml
from grace_core.errors import DatasetError


def alias_bomb() -> str:
    """~600 bytes of nested anchors and aliases ("billion laughs"): 9**9 strings once expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        alias = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([alias] * 9)}]")
    lines += ["names: [*a8]", "train: images/train", "val: images/val"]
    return "\n".join(lines) + "\n"


# The CLI in a child process whose address space is capped at 1 GiB: before the fix it hit the cap (MemoryError)
# instead of using 2.6 GB here; after it, it refuses the file at once. It reports its own peak memory.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from grace_core.cli.main import main
    code = main(sys.argv[1:])
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    print(json.dumps({"code": code, "peak_mb": int(status["VmHWM"].split()[0]) / 1024}))  # since exec, unlike maxrss
    """
)


@pytest.fixture
def bomb_dataset(tmp_path):
    folder = tmp_path / "bomb"
    (folder / "images" / "train").mkdir(parents=True)
    (folder / "labels" / "train").mkdir(parents=True)
    (folder / "data.yaml").write_text(alias_bomb())
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ["data", "stats", "{dataset}"],
        ["data", "import", "yolo", "{dataset}", "{out}"],
        ["info", "grace-n", "--data", "{dataset}/data.yaml"],
    ],
    ids=["stats", "import", "info"],
)
def test_an_alias_bomb_is_refused_fast_and_small(bomb_dataset, tmp_path, command):
    assert len(alias_bomb()) < 700
    argv = [part.format(dataset=bomb_dataset, out=tmp_path / "out") for part in command]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 2
    assert f"{bomb_dataset / 'data.yaml'}:1:" in done.stderr  # which file, where
    assert "anchors and aliases (&name, *name) are not allowed" in done.stderr
    assert "write the values out" in done.stderr  # what to do
    assert result["peak_mb"] < 500
    assert not (tmp_path / "out").exists()


def test_a_single_anchor_is_refused_in_process(tmp_path):
    """Refused while composing: nothing is built, so even in-process this cannot blow up."""
    path = tmp_path / "data.yaml"
    path.write_text(alias_bomb())
    with pytest.raises(DatasetError, match=r"data\.yaml:1:5: invalid YAML: YAML anchors and aliases"):
        load_yaml(path)
    path.write_text("base: &base {a: 1}\nnames: [x]\n")
    with pytest.raises(DatasetError, match="anchors and aliases"):
        load_yaml(path)


@pytest.mark.parametrize(
    ("names", "shown"),
    [
        ("[[a, b], c]", "list"),
        ("{0: scratch, 1: {x: 1}}", "dict"),
        ("[scratch, null]", "None"),
        ("[scratch, 7]", "7"),
        ("[yes, no]", "True"),
    ],
)
def test_class_names_must_be_text(tmp_path, names, shown):
    path = tmp_path / "data.yaml"
    path.write_text(f"names: {names}\n")
    with pytest.raises(DatasetError) as caught:
        names_from_yaml(path)
    message = str(caught.value)
    assert str(path) in message and f"has the name {shown}, which is not text" in message
    assert "write each name as a string" in message


def test_quoted_names_still_load(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text("names: ['0', '1', scratch]\ntrain: images/train\n")
    assert names_from_yaml(path) == ["0", "1", "scratch"]
    path.write_text("names: {0: pit, 1: scratch}\n")
    assert names_from_yaml(path) == ["pit", "scratch"]


def test_a_huge_yaml_is_refused_before_parsing(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text("names: [a]\n" + "#" * MAX_YAML_BYTES + "\n")
    with pytest.raises(DatasetError, match=r"larger than 1 MB, too large for a dataset description"):
        load_yaml(path)
    path.write_text("names: [a]\n" + "#" * (MAX_YAML_BYTES - 100) + "\n")  # just under the cap: fine
    assert load_yaml(path)["names"] == ["a"]

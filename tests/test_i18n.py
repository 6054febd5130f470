"""The UI's texts are data (static/i18n/<lang>.json): every language has the same keys
and the same {slots}; every key a registry entry, a preset or the engine needs is
there, and nothing else claims a registry name; every key the page names literally
exists; no text is written anywhere else."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from deepscope import i18n, protocol
from deepscope.catalog import build_catalog
from deepscope.engine import activations, datasets, layers_lab, optimizers, surfaces, training
from deepscope.engine.race import RunConfig
from deepscope.engine.text import Text
from deepscope.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
EN, ZH = i18n.catalog("en"), i18n.catalog("zh")


def test_every_language_has_the_same_keys() -> None:
    assert len(EN) > 400
    assert sorted(set(EN) - set(ZH)) == [], "keys without Chinese"
    assert sorted(set(ZH) - set(EN)) == [], "Chinese keys that English lacks"


def test_every_translation_has_the_same_slots() -> None:
    differ = {
        key: (sorted(i18n.SLOT.findall(EN[key])), sorted(i18n.SLOT.findall(ZH[key])))
        for key in EN
        if sorted(i18n.SLOT.findall(EN[key])) != sorted(i18n.SLOT.findall(ZH[key]))
    }
    assert differ == {}


def test_keys_are_dotted_names_and_texts_are_not_empty() -> None:
    # the page marks a paragraph of several sentences with their keys, space-separated
    assert [k for k in EN if not re.fullmatch(r"[A-Za-z0-9_.-]+", k)] == []
    empty = [k for lang in i18n.LANGS for k, v in i18n.catalog(lang).items() if not v.strip()]
    assert [k for k in empty if not k.startswith("sep.")] == []  # separators: " ", ""


def test_the_catalog_files_are_flat_objects_without_duplicate_keys() -> None:
    for lang in i18n.LANGS:
        path = ROOT / "static" / "i18n" / f"{lang}.json"

        def no_duplicates(pairs: list[tuple[str, str]], lang: str = lang) -> dict[str, str]:
            keys = [k for k, _ in pairs]
            assert len(keys) == len(set(keys)), f"{lang}: a key written twice"
            return dict(pairs)

        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def _registry_keys() -> tuple[set[str], dict[str, set[str]]]:
    """The keys every registry entry must have, and each kind's names."""
    names = {
        "activation": set(activations.ACTIVATIONS),
        "optimizer": set(optimizers.OPTIMIZERS),
        "surface": set(surfaces.SURFACE_SPECS),
        "dataset": set(datasets.DATASETS),
        "preset": {p["id"] for p in PRESETS},
    }
    needed = {
        f"{kind}.{n}.title" for kind in ("optimizer", "surface", "dataset") for n in names[kind]
    }
    needed |= {f"activation.{n}.saturation" for n in names["activation"]}
    for p in PRESETS:
        needed |= {f"preset.{p['id']}.title", f"preset.{p['id']}.notice"}
        if "compare" in p:
            needed |= {f"preset.{p['id']}.labels.0", f"preset.{p['id']}.labels.1"}
    return needed, names


def test_every_registry_entry_and_preset_has_its_texts_and_no_text_is_orphaned() -> None:
    needed, names = _registry_keys()
    assert sorted(needed - set(EN)) == []
    orphans = []
    for key in EN:
        kind, _, rest = key.partition(".")
        if kind not in names:
            continue
        name, _, field = rest.partition(".")  # registry names and preset ids have no dots
        notes = kind != "preset" and re.fullmatch(r"notes\.\d+", field)
        if name not in names[kind] or not (key in needed or notes):
            orphans.append(key)
    assert orphans == [], "texts for no registry entry (a renamed entry?)"


@pytest.mark.parametrize("kind", ["activation", "optimizer", "surface", "dataset"])
def test_notes_are_numbered_from_0_without_gaps(kind: str) -> None:
    for key in EN:
        m = re.fullmatch(rf"{kind}\.(\w+)\.notes\.(\d+)", key)
        if m and m[2] != "0":
            assert f"{kind}.{m[1]}.notes.{int(m[2]) - 1}" in EN, key


def test_the_api_sends_the_english_of_the_catalog() -> None:
    catalog = build_catalog()
    adam = next(o for o in catalog["optimizers"] if o["name"] == "adam")
    assert adam["title"] == EN["optimizer.adam.title"]
    assert adam["notes"] == [EN["optimizer.adam.notes.0"]]
    tanh = next(a for a in catalog["activations"] if a["name"] == "tanh")
    assert tanh["notes"] == [EN["activation.tanh.notes.0"]]
    preset = next(p for p in catalog["presets"] if p["id"] == "bn-small")
    assert preset["title"] == {"en": EN["preset.bn-small.title"], "zh": ZH["preset.bn-small.title"]}
    assert preset["labels"]["zh"] == [
        ZH["preset.bn-small.labels.0"],
        ZH["preset.bn-small.labels.1"],
    ]


THEORY_CASES = [
    ({}, "layers.theory.linear"),
    ({"batchnorm": "train"}, "layers.theory.batchnorm"),
    ({"activation": "gelu"}, "layers.theory.no_law"),
    ({"residual": True}, "layers.theory.residual"),
    ({"bias": 0.5}, "layers.theory.bias"),
    ({"init": "constant"}, "layers.theory.constant"),
]


@pytest.mark.parametrize(("change", "key"), THEORY_CASES)
def test_every_variance_law_note_is_a_key_with_its_slots(
    change: dict[str, object], key: str
) -> None:
    note = layers_lab.theory_variance(layers_lab.LayersConfig(**change))[1]  # type: ignore[arg-type]
    assert note.key == key
    assert set(i18n.SLOT.findall(EN[key])) == set(note.vars)
    assert "{" not in i18n.english(note).replace("{k−1}", "")


def test_the_saturation_rule_is_said_by_the_activation_s_key() -> None:
    config = layers_lab.LayersConfig(activation="sigmoid", widths=(20, 20), input_dim=20, batch=50)
    result = layers_lab.run(config)
    assert result.saturation_rule == Text("activation.sigmoid.saturation")
    assert i18n.english(result.saturation_rule) == "h < 0.01 or h > 0.99"


def test_a_divergence_is_explained_by_key_in_every_language() -> None:
    diverging = training.TrainConfig(
        activation="linear", scale=3.0, steps=500, optimizer=RunConfig("gd", {"lr": 5.0})
    )
    reason = list(training.train(diverging, every=10))[-1].reason
    assert reason is not None and reason.key.startswith("train.diverged.")
    for lang in i18n.LANGS:
        words = i18n.text(reason.key, lang, **reason.vars)
        assert reason.vars["step"] in words and "5" in words and "{" not in words


def test_a_missing_key_or_slot_is_an_error_not_a_fallback() -> None:
    with pytest.raises(KeyError, match=r"no text 'f\.no_such_field'"):
        i18n.text("f.no_such_field")
    with pytest.raises(KeyError, match="slot"):
        i18n.english(Text("layers.theory.no_law"))
    with pytest.raises(KeyError, match="no catalog"):
        i18n.catalog("fr")


JS = sorted((ROOT / "static" / "js").rglob("*.js"))
LITERAL = re.compile(
    r"""(?:\bt\(|\bi18n: |\bkey: |\bsubKey: |\bhint: |\bbutton\(|\bfieldset\(|\bcard\()"""
    r"""\s*"([A-Za-z0-9_.-]+)\""""
)


def test_every_key_the_page_names_literally_exists() -> None:
    named = {m for path in JS for m in LITERAL.findall(path.read_text())}
    named |= set(
        re.findall(r'data-i18n="([^"]+)"', (ROOT / "templates" / "index.html").read_text())
    )
    assert len(named) > 150
    assert sorted(named - set(EN)) == []


def test_every_key_the_page_builds_from_a_registry_exists() -> None:
    """The controls are labelled f.<hyper-parameter>, sp.<surface parameter>,
    gp.<activation>.<parameter>, p.<parameter>, sched.<schedule>, dtype.<choice>…"""
    built = {f"f.{h.name}" for s in optimizers.OPTIMIZERS.values() for h in s.hyper}
    built |= {f"sp.{p.name}" for s in surfaces.SURFACE_SPECS.values() for p in s.params}
    for a in activations.ACTIVATIONS.values():
        built |= {f"gp.{a.name}.{p.name}" for p in a.params} | {f"p.{p.name}" for p in a.params}
    built |= {f"sched.{n}" for n in optimizers.SCHEDULES}
    built |= {
        f"dtype.{d}"
        for d in typing.get_args(protocol.LayersRequest.model_fields["dtype"].annotation)
    }
    built |= {
        f"kind.{k}"
        for k in typing.get_args(typing.get_type_hints(protocol.CriticalPointOut)["kind"])
    }
    built |= {
        f"status.{s}" for s in typing.get_args(protocol.RunOut.model_fields["status"].annotation)
    }
    built |= {
        f"state.{s}" for s in typing.get_args(protocol.Status.model_fields["state"].annotation)
    }
    built |= {f"welcome.{lab}" for lab in ("layers", "descend", "train", "gallery")}
    assert sorted(built - set(EN)) == []


def test_no_text_of_the_ui_is_written_outside_the_catalogs() -> None:
    """No Chinese in the page's code or the Python (each translation defined once)."""
    cjk = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # CJK and its punctuation
    sources = [*JS, *(ROOT / "deepscope").rglob("*.py")]
    assert [str(p.relative_to(ROOT)) for p in sources if cjk.search(p.read_text())] == []

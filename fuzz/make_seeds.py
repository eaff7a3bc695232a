#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into OUT/<target>/, from the fixtures and data in
SHARED (../shared) and the sweep configs of the repository. Seeds are cut small (a few lines, a
few tensors): libFuzzer mutates small inputs much faster, and the formats' structure is all it
needs from them. Usage: make_seeds.py SHARED OUT"""
import json
import pathlib
import struct
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
# glue_task_specs() order (framework/tasks/glue.cpp) and each task's splits.
GLUE_TASKS = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"]
STANDARD_SPLITS = ["train", "dev", "test"]
MNLI_SPLITS = ["train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"]
HEADS = {"cls": 0, "reg": 1, "qa": 2}  # HeadKind order in fuzz_sample_batches.cpp


def head_lines(path, count):
    with open(path, "rb") as f:
        return b"".join(line for _, line in zip(range(count), f))


def safetensors(tensors):
    """tensors: [(name, dtype, shape, data bytes)] -> the bytes of a safetensors file."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def fixture_safetensors(path, keep):
    """The `keep` smallest tensors of a fixture checkpoint, rewritten as a file of their own."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    header.pop("__metadata__", None)
    data = raw[8 + size:]
    smallest = sorted(header.items(), key=lambda item: item[1]["data_offsets"][1] - item[1]["data_offsets"][0])
    return safetensors([(name, spec["dtype"], spec["shape"], data[spec["data_offsets"][0]:spec["data_offsets"][1]])
                        for name, spec in smallest[:keep]])


def main(shared, out):
    shared, out = pathlib.Path(shared), pathlib.Path(out)
    seeds = {}

    def add(target, name, data):
        seeds.setdefault(target, {})[name] = data

    fixtures = sorted(shared.glob("fixtures/*/*/"))
    for fixture in fixtures:
        label = f"{fixture.parent.name}-{fixture.name}"
        if (fixture / "model.safetensors").exists():
            add("safetensors", label, fixture_safetensors(fixture / "model.safetensors", 4))
        if (fixture / "config.json").exists():
            add("model_config", label, (fixture / "config.json").read_bytes())
        if (fixture / "batches.jsonl").exists():
            head = next((h for key, h in HEADS.items() if key in fixture.name), 0)
            add("sample_batches", label, bytes([head]) + head_lines(fixture / "batches.jsonl", 2))
    add("safetensors", "every-dtype", safetensors(
        [(f"t_{dtype}", dtype, [2], bytes(range(2 * size)))
         for dtype, size in [("F32", 4), ("F16", 2), ("BF16", 2), ("F64", 8), ("I64", 8), ("I32", 4),
                             ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1)]]))
    bert_config = shared / "data/vocab/bert-base-uncased-bert_config.json"
    if bert_config.exists():
        add("model_config", "bert-base-uncased", bert_config.read_bytes())

    vocab = shared / "data/vocab/bert-base-uncased-vocab.txt"
    if vocab.exists():
        lines = vocab.read_bytes().splitlines(keepends=True)
        # The specials and [unused] entries, then a spread of words and "##" pieces.
        add("vocab", "bert-base-uncased-sample", b"".join(lines[:120] + lines[120::97]))
    add("vocab", "minimal-cased",
        b'{"do_lower_case": false}\0[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nab\r\n##c\r\n')
    add("vocab", "minimal-uncased", b'{"do_lower_case": true, "model_max_length": 512}\0[PAD]\n[UNK]\n'
        b'[CLS]\n[SEP]\n[MASK]\nab\n##c\n')

    golden = shared / "fixtures/tokenizer/bert-base-uncased-golden.jsonl"
    if golden.exists():
        for number, line in enumerate(golden.read_bytes().splitlines()[:40]):
            record = json.loads(line)
            flags = 1 | (2 if "b" in record else 0) | ((number % 64) << 2)
            text = record["a"].encode() + (b"\0" + record["b"].encode() if "b" in record else b"")
            add("wordpiece", f"golden-{number}", bytes([flags]) + text)
            add("wordpiece", f"golden-json-{number}",
                bytes([flags]) + json.dumps({k: record[k] for k in ("a", "b") if k in record}).encode())

    for task, dir_name in enumerate(GLUE_TASKS):
        splits = MNLI_SPLITS if dir_name == "MNLI" else STANDARD_SPLITS
        for path in sorted((shared / "data/glue" / dir_name).glob("*.tsv")):
            split = path.stem if path.stem in splits else "train"  # QQP's train subsets
            for skip in (0, 1):
                add("glue_tsv", f"{dir_name}-{path.stem}-{skip}",
                    bytes([task, (splits.index(split) << 1) | skip]) + head_lines(path, 12))
    # Headerless CoLA rows (no CoLA copy in the shared data).
    add("glue_tsv", "CoLA-train", bytes([0, 0]) + b"gj04\t1\t\tOur friends won't buy this analysis.\n"
        b"gj04\t0\t*\tThey drank the pub.\n")

    for path in sorted(shared.glob("data/squad/*/*.json")):
        squad = json.loads(path.read_bytes())
        article = squad["data"][0]
        article["paragraphs"] = article["paragraphs"][:2]
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = paragraph["qas"][:3]
        small = {"version": squad.get("version", ""), "data": [article]}
        add("squad_data", path.stem, json.dumps(small, ensure_ascii=False).encode())
        predictions = {qa["id"]: (qa["answers"][0]["text"] if qa["answers"] else "")
                       for paragraph in article["paragraphs"] for qa in paragraph["qas"]}
        add("squad_predictions", path.stem, json.dumps(predictions, ensure_ascii=False).encode())
    add("squad_predictions", "with-na-probs",
        b'{"q1": "the  Cafe!", "q2": ""}\0{"q1": 0.25, "q2": 0.9}')

    for path in sorted((REPO / "configs").glob("*.toml")):
        add("sweep_config", path.stem, path.read_bytes())
        add("sweep_config", path.stem + "-overrides",
            path.read_bytes() + b"\0sweep.device=cpu\0pruners.kprune.mu=[32, 64]\0sweep.retries=2")

    for target, files in seeds.items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(files)} seeds")


if __name__ == "__main__":
    main(*sys.argv[1:])

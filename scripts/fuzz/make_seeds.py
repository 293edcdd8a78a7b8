#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, scripts/fuzz/seeds/<target>/, from the repository's own files and small
hand-made edge cases (needs torch and numpy, as the other fixture scripts).

    python3 scripts/fuzz/make_seeds.py

Large repository files are cut to a few games or replaced by tiny models of the same layout: libFuzzer mutates small
inputs far faster, and the readers' code paths do not depend on the sizes.
"""
import collections
import io
import json
import os
import pickle
import shutil
import struct
import zipfile
import zlib

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SEEDS = os.path.join(ROOT, "scripts", "fuzz", "seeds")
MODEL_FIXTURES = os.path.join(ROOT, "Tests", "OthelloModelTests", "Fixtures")
PROBE_FIXTURES = os.path.join(ROOT, "Tests", "OthelloProbesTests", "Fixtures")
RULES_FIXTURES = os.path.join(ROOT, "Tests", "OthelloRulesTests", "Fixtures")


def write(target, name, data):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(target, path):
    with open(path, "rb") as f:
        write(target, os.path.basename(path), f.read())


def safetensors(tensors, metadata=None, dtype="F32"):
    """The bytes of a safetensors file of `tensors` (name → numpy array), as Hugging Face's writer lays them out."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, array in tensors.items():
        if dtype == "F32":
            blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        elif dtype == "F16":
            blob = np.ascontiguousarray(array, dtype="<f2").tobytes()
        else:  # BF16: the upper half of each float32
            blob = (np.ascontiguousarray(array, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def torch_save(value):
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def data_pkl(archive):
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def rng_array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def tl_model(d=4, heads=2, d_mlp=8, layers=1, ln=True):
    """A tiny TransformerLens-layout Othello model (61 tokens, 59 positions)."""
    dh = d // heads
    t = {"embed.W_E": rng_array(61, d), "pos_embed.W_pos": rng_array(59, d, seed=1)}
    for l in range(layers):
        p = f"blocks.{l}."
        if ln:
            t[p + "ln1.w"], t[p + "ln1.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
        for x in "QKV":
            t[p + f"attn.W_{x}"], t[p + f"attn.b_{x}"] = rng_array(heads, d, dh, seed=2), np.zeros((heads, dh), np.float32)
        t[p + "attn.W_O"], t[p + "attn.b_O"] = rng_array(heads, dh, d, seed=3), np.zeros(d, np.float32)
        if ln:
            t[p + "ln2.w"], t[p + "ln2.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
        t[p + "mlp.W_in"], t[p + "mlp.b_in"] = rng_array(d, d_mlp, seed=4), np.zeros(d_mlp, np.float32)
        t[p + "mlp.W_out"], t[p + "mlp.b_out"] = rng_array(d_mlp, d, seed=5), np.zeros(d, np.float32)
    if ln:
        t["ln_final.w"], t["ln_final.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
    t["unembed.W_U"], t["unembed.b_U"] = rng_array(d, 61, seed=6), np.zeros(61, np.float32)
    return t


def config(d=4, heads=2, d_mlp=8, layers=1, ln=True):
    return {"nLayers": layers, "dModel": d, "nHeads": heads, "dHead": d // heads, "dMLP": d_mlp, "dVocab": 61, "nCtx": 59,
            "actFn": "gelu", "normalizationType": "LN" if ln else "LNPre", "eps": 1e-5}


def mingpt_model(d=4, d_mlp=8, layers=1):
    """A tiny minGPT-layout checkpoint (Li et al.'s key names)."""
    t = {"tok_emb.weight": rng_array(61, d), "pos_emb": rng_array(1, 59, d, seed=1)}
    for l in range(layers):
        p = f"blocks.{l}."
        for name in ["ln1", "ln2"]:
            t[p + name + ".weight"], t[p + name + ".bias"] = np.ones(d, np.float32), np.zeros(d, np.float32)
        for name in ["query", "key", "value", "proj"]:
            t[p + f"attn.{name}.weight"], t[p + f"attn.{name}.bias"] = rng_array(d, d, seed=2), np.zeros(d, np.float32)
        t[p + "attn.mask"] = np.tril(np.ones((1, 1, 59, 59), np.float32))
        t[p + "mlp.0.weight"], t[p + "mlp.0.bias"] = rng_array(d_mlp, d, seed=3), np.zeros(d_mlp, np.float32)
        t[p + "mlp.2.weight"], t[p + "mlp.2.bias"] = rng_array(d, d_mlp, seed=4), np.zeros(d, np.float32)
    t["ln_f.weight"], t["ln_f.bias"] = np.ones(d, np.float32), np.zeros(d, np.float32)
    t["head.weight"] = rng_array(61, d, seed=5)
    return t


def state_dict(tensors, dtype=torch.float32):
    return collections.OrderedDict((k, torch.from_numpy(v).to(dtype)) for k, v in tensors.items())


def png(width, height, colour_type, bit_depth, rows, palette=None, trns=None):
    """A PNG of raw scanlines `rows` (bytes, without filter bytes)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if palette:
        out += chunk(b"PLTE", palette)
    if trns:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in rows)))
    return out + chunk(b"IEND", b"")


def npy(array, version=(1, 0), fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (array.dtype.str, fortran, tuple(array.shape))
    size = 4 if version[0] == 1 else 6
    header += " " * ((64 - (6 + 2 + size + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header.encode("latin1" if version[0] < 3 else "utf8") + array.tobytes()


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)

    # Weight files: torch zips (pth), their pickles (pickle), safetensors, and models (minGPT conversion included).
    tiny_pth = {
        "tl_ln.pth": torch_save(state_dict(tl_model())),
        "tl_f16.pth": torch_save(state_dict(tl_model(ln=False), torch.float16)),
        "tl_bf16.pth": torch_save(state_dict(tl_model(ln=False), torch.bfloat16)),
        "mingpt.ckpt": torch_save(state_dict(mingpt_model())),
        "one_tensor.pth": torch_save(torch.from_numpy(rng_array(3, 4, 8, 8, 3))),
        "views.pth": torch_save(collections.OrderedDict(
            [("a", torch.arange(24.0).reshape(4, 6).t()), ("b", torch.arange(24.0)[3:9]), ("c", torch.zeros(0, 5)),
             ("d.mask", torch.ones(3, dtype=torch.bool)), ("e", torch.tensor(2.5))])),
        "parameters.pth": torch_save(collections.OrderedDict([("w", torch.nn.Parameter(torch.ones(2, 2)))])),
    }
    for name, data in tiny_pth.items():
        write("pth", name, data)
        write("pickle", name + ".pkl", data_pkl(data))
    for name in ["damaged_long_string.pth", "damaged_nested.pth", "damaged_storage_count.pth", "damaged_stored_changed.pth",
                 "damaged_view.pth", "forbidden_global.pth"]:
        copy("pth", os.path.join(MODEL_FIXTURES, name))
        with open(os.path.join(MODEL_FIXTURES, name), "rb") as f:
            write("pickle", name + ".pkl", data_pkl(f.read()))
    for path in [os.path.join(MODEL_FIXTURES, "tl_lnpre.pth"), os.path.join(MODEL_FIXTURES, "mingpt.ckpt"),
                 os.path.join(PROBE_FIXTURES, "nanda_probe.pth"), os.path.join(PROBE_FIXTURES, "li_mlp_probe.pth")]:
        with open(path, "rb") as f:
            write("pickle", os.path.basename(path) + ".pkl", data_pkl(f.read()))
    # Plain pickles of every protocol: values a state dict never holds, to be refused or skipped cleanly.
    values = [collections.OrderedDict([("a", 1)]), {"k": [1, 2.5, "s", b"b", None, True, (1, 2, 3), (), -(2 ** 40)]},
              [[[]]], ("x",) * 5]
    for protocol in [2, 3, 4]:
        for i, value in enumerate(values):
            write("pickle", f"protocol{protocol}-{i}.pkl", pickle.dumps(value, protocol=protocol))
    shared = [1, 2]
    write("pickle", "memo.pkl", pickle.dumps({"a": shared, "b": shared}, protocol=2))

    write("safetensors", "f32.safetensors", safetensors({"x": rng_array(2, 3), "y": rng_array(4)}, {"format": "pt"}))
    write("safetensors", "f16.safetensors", safetensors({"x": rng_array(2, 3)}, dtype="F16"))
    write("safetensors", "bf16.safetensors", safetensors({"x": rng_array(3)}, dtype="BF16"))
    write("safetensors", "empty-shapes.safetensors", safetensors({"scalar": np.float32(1).reshape(()), "none": np.zeros((0, 4))}))
    write("safetensors", "no-tensors.safetensors", safetensors({}, {"note": "metadata only"}))
    for name in ["nanda_relative.safetensors", "li_probe_logits.safetensors"]:
        copy("safetensors", os.path.join(PROBE_FIXTURES, name))

    write("model", "tl_ln.safetensors", safetensors(tl_model()))
    write("model", "tl_lnpre_config.safetensors",
          safetensors(tl_model(ln=False), {"format": "pt", "config": json.dumps(config(ln=False))}))
    write("model", "tl_two_layers_bf16.safetensors", safetensors(tl_model(layers=2), dtype="BF16"))
    write("model", "mingpt.safetensors", safetensors(mingpt_model()))
    write("model", "mingpt.ckpt", tiny_pth["mingpt.ckpt"])

    # Probes: the workbench's safetensors, Nanda's one tensor, Li et al.'s state dicts.
    d, h = 4, 3
    # SAE files (workbench metadata; TopK; SAELens tensors without metadata).
    sae = {"W_enc": rng_array(4, 6), "b_enc": rng_array(6), "W_dec": rng_array(6, 4), "b_dec": rng_array(4)}
    write("sae", "relu.safetensors", safetensors(sae, {"format": "othello-gpt-sae", "hook": "blocks.0.hook_resid_post", "kind": "relu",
                                                      "l1": "5", "d_in": "4", "d_sae": "6"}))
    write("sae", "topk.safetensors", safetensors(sae, {"format": "othello-gpt-sae", "hook": "blocks.0.mlp.hook_post", "kind": "topk",
                                                      "k": "2", "d_in": "4", "d_sae": "6"}))
    write("sae", "saelens.safetensors", safetensors(sae))
    write("probe", "linear-colour.safetensors", safetensors(
        {"W": rng_array(1, d, 8, 8, 3), "b": rng_array(1, 8, 8, 3)},
        {"format": "othello-gpt-probe", "kind": "linear", "basis": "colour", "hook": "blocks.0.hook_resid_post",
         "modes": "all", "classes": "empty,black,white", "d_in": str(d), "hidden": "0"}))
    write("probe", "mlp-relative.safetensors", safetensors(
        {"W_hidden": rng_array(2, d, h), "b_hidden": rng_array(2, h), "W_out": rng_array(2, h, 8, 8, 3), "b_out": rng_array(2, 8, 8, 3)},
        {"format": "othello-gpt-probe", "kind": "mlp", "basis": "relative", "hook": "blocks.0.hook_resid_mid",
         "modes": "black_to_move,white_to_move", "classes": "empty,theirs,mine", "d_in": str(d), "hidden": str(h)}))
    write("probe", "linear-flipped.safetensors", safetensors(
        {"W": rng_array(1, d, 8, 8, 2), "b": rng_array(1, 8, 8, 2)},
        {"format": "othello-gpt-probe", "kind": "linear", "basis": "flipped", "hook": "blocks.0.hook_resid_post",
         "modes": "all", "classes": "no,yes", "d_in": str(d), "hidden": "0"}))
    write("probe", "nanda-three-modes.pth", torch_save(torch.from_numpy(rng_array(3, d, 8, 8, 3))))
    write("probe", "nanda-one-mode.pth", torch_save(torch.from_numpy(rng_array(d, 8, 8, 3))))
    write("probe", "li-linear.pth", torch_save(state_dict({"proj.weight": rng_array(192, d), "proj.bias": rng_array(192)})))
    write("probe", "li-mlp.pth", torch_save(state_dict({"proj.0.weight": rng_array(h, d), "proj.0.bias": rng_array(h),
                                                        "proj.2.weight": rng_array(192, h), "proj.2.bias": rng_array(192)})))
    for name in ["nanda_relative.safetensors", "li_linear_probe.pth", "not_a_probe.pth"]:
        copy("probe", os.path.join(PROBE_FIXTURES, name))

    # Training checkpoints and logs: the d256 run's options on a tiny model, and the start of the real logs.
    # (the shipped weights, the d256 run's, keep its training options, step and games seen; a checkpoint adds its format)
    with open(os.path.join(ROOT, "Sources", "OthelloModel", "Resources", "shipped-model.safetensors"), "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        exported = json.loads(f.read(length))["__metadata__"]
    with open(os.path.join(ROOT, "scripts", "train-d256", "d256.jsonl")) as f:
        elapsed = json.loads(f.readlines()[-1])["elapsed"]
    metadata = {"format": "othello-gpt training checkpoint v1", "elapsed_seconds": str(elapsed),
                **{k: exported[k] for k in ["games_seen", "step", "training_options"]}}
    options = json.loads(metadata["training_options"])
    options["config"] = config(ln=False)
    metadata["training_options"] = json.dumps(options)
    weights = tl_model(ln=False)
    tensors = dict(weights)
    for prefix in ["optimizer.exp_avg.", "optimizer.exp_avg_sq."]:
        tensors.update({prefix + k: np.abs(v) for k, v in weights.items()})
    write("checkpoint", "tiny.ckpt.safetensors", safetensors(tensors, metadata))
    with open(os.path.join(ROOT, "Sources", "OthelloModel", "Resources", "training-log.jsonl")) as f:
        write("log", "training-log.jsonl", "".join(f.readlines()[:12]))
    with open(os.path.join(ROOT, "scripts", "train-d256", "d256.jsonl")) as f:
        write("log", "d256.jsonl", "".join(f.readlines()[:6]))
    write("log", "one-line.jsonl", '{"elapsed":1.5,"games":128,"games_per_second":85.3,"legal_top1":0.25,"loss":4.1,"lr":1e-05,"step":1}\n')
    # Milestones of the d256 run, and the shipped d128's line.
    copy("milestones", os.path.join(ROOT, "scripts", "train-d256", "milestones.jsonl"))
    copy("milestones", os.path.join(ROOT, "scripts", "train-d256", "d128-reference.jsonl"))

    # Games: the repository's files, cut to a few games.
    copy("npy", os.path.join(RULES_FIXTURES, "numpy-games.npy"))
    copy("npy", os.path.join(MODEL_FIXTURES, "tokens.npy"))
    games = np.load(os.path.join(ROOT, "Games", "synthetic-10k.npy"))[:8]
    write("npy", "synthetic-8.npy", npy(games))
    write("npy", "synthetic-2-v2.npy", npy(games[:2], version=(2, 0)))
    write("npy", "synthetic-1-v3.npy", npy(games[:1], version=(3, 0)))
    write("npy", "fortran.npy", npy(games[:1], fortran=True))
    write("npy", "no-games.npy", npy(games[:0]))
    write("npy", "floats.npy", npy(np.zeros((2, 60), np.float32)))

    copy("wtb", os.path.join(RULES_FIXTURES, "WTH_1977.wtb"))
    with open(os.path.join(ROOT, "Games", "WTH_2025.wtb"), "rb") as f:
        wtb = f.read()
    header = bytearray(wtb[:16])
    header[4:8] = struct.pack("<I", 6)
    write("wtb", "WTH_2025-6.wtb", bytes(header) + wtb[16:16 + 6 * 68])
    header[4:8] = struct.pack("<I", 0)
    write("wtb", "no-games.wtb", bytes(header))

    with open(os.path.join(ROOT, "Games", "WTH_2025.pgn")) as f:
        pgn = f.read()
    write("pgn", "WTH_2025-3.pgn", "[Event".join(pgn.split("[Event")[:4]))
    write("pgn", "edge.pgn", '[Event "x"]\n[Result "33-31"]\n\n1. F5 {a comment\nover lines} D6 2... C3 33-31\n[Black "b"]\n1. f5 *\n')

    copy("txt", os.path.join(RULES_FIXTURES, "numpy-games.txt"))
    write("txt", "separators.txt", "E5 F5\tF4,F3\r\n\n\nE5\n")

    # Intervention cases (JSON Lines) as `InterventionCases.write` writes them, and by hand.
    write("cases", "cases.jsonl",
          '{"moves": [37, 29, 18], "square": 27, "label": "D3"}\n'
          '{"moves": ["E5", "F3"], "square": "E4", "edit": "empty"}\r\n'
          '\n'
          '{"moves": [37], "square": 20, "edit": "mine", "note": "other fields are ignored"}\n'
          '{"moves": [37, 43], "square": 44, "edit": "theirs"}\n')
    write("cases", "flip.jsonl", '{"moves": [19, 18, 17], "square": 27}\n')

    # PNG: each colour type and several bit depths (the workbench writes RGB and RGBA).
    write("png", "rgb8.png", png(3, 2, 2, 8, [bytes(range(9)), bytes(range(9, 18))]))
    write("png", "rgba8.png", png(2, 2, 6, 8, [bytes(range(8)), bytes(range(8, 16))]))
    write("png", "grey1.png", png(9, 2, 0, 1, [b"\xa5\x80", b"\x5a\x00"]))
    write("png", "grey16.png", png(2, 1, 0, 16, [b"\x12\x34\xff\xff"]))
    write("png", "grey-alpha8.png", png(2, 1, 4, 8, [b"\x10\x80\x20\xff"]))
    write("png", "palette4.png", png(3, 1, 3, 4, [b"\x01\x20"], palette=b"\x00\x00\x00\xff\x00\x00\x00\xff\x00", trns=b"\x80"))
    write("png", "rgba16.png", png(1, 1, 6, 16, [b"\x00\x01\x02\x03\x04\x05\x06\x07"]))


if __name__ == "__main__":
    main()

"""typenet's safetensors files in PyTorch, and PyTorch models as typenet reads them.

Only the standard library and torch (Debian has no safetensors package):

    import typenet_torch
    net = typenet_torch.load("moons.safetensors")     # an nn.Sequential, weights in it
    typenet_torch.save(net, "moons.safetensors")       # for typenet::load_safetensors

A file holds the state_dict() of a torch.nn.Sequential with the same layers
as the typenet type: layer k after Input is module k ("0.weight" [out, in],
"0.bias", a BatchNorm's "1.running_mean", "1.num_batches_tracked", ...), and
its metadata names the typenet type ("typenet_network"), from which load()
builds the Sequential. docs/interop.md describes the names, the dtypes and
what is checked.

The constants of typenet's layers are C++ float template arguments
(BatchNorm<1e-5f, 0.1f>): load() gives the PyTorch modules those float32
values (momentum 0.10000000149011612, not 0.1), so that the two compute
alike in double too; save() writes a module's constants as typenet's type
names them, rounded to float32.
"""

import ctypes
import json
import math
import os
import re
import struct
import sys
import tempfile

import torch
from torch import nn

NETWORK_KEY = "typenet_network"

# The format's dtypes, in the order of its alignment rule (a writer puts the
# later ones first), with their torch types.
DTYPES = [
    ("BOOL", torch.bool), ("U8", torch.uint8), ("I8", torch.int8), ("F8_E5M2", None), ("F8_E4M3", None),
    ("I16", torch.int16), ("U16", None), ("F16", torch.float16), ("BF16", torch.bfloat16), ("I32", torch.int32),
    ("U32", None), ("F32", torch.float32), ("F64", torch.float64), ("I64", torch.int64), ("U64", None),
]
_TORCH_OF = {name: t for name, t in DTYPES}
_NAME_OF = {t: name for name, t in DTYPES if t is not None}
_ORDER = {name: i for i, (name, _) in enumerate(DTYPES)}


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last dimension, as
    torch.nn.RMSNorm (PyTorch 2.4 and later) defines it, for PyTorch versions
    without it; eps=None is the machine epsilon of the input's dtype."""

    def __init__(self, width, eps=None):
        super().__init__()
        self.normalized_shape = (width,)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight


# ---------------------------------------------------------------- the file format

def _check_host():
    if sys.byteorder != "little":
        raise OSError("typenet_torch reads and writes safetensors' little-endian bytes as they are: "
                      "a little-endian host only")


def read_tensors(path):
    """(tensors, metadata) of a safetensors file: a dict of name -> tensor (on
    the CPU, in the file's dtype and shape) and the __metadata__ dict."""
    _check_host()
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f"{path}: the header's size field says {n} bytes (at most 100 MB, within the file)")
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{path}: the header names {sorted(k for k in keys if keys.count(k) > 1)[0]!r} twice")
        return dict(pairs)

    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    metadata = header.pop("__metadata__", {})
    tensors = {}
    start = 8 + n
    at = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        dtype = _TORCH_OF.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} is {info['dtype']}, which torch has no type for")
        if begin != at:
            raise ValueError(f"{path}: tensor {name!r}: data_offsets {info['data_offsets']} are not contiguous")
        count = math.prod(info["shape"])
        size = torch.empty((), dtype=dtype).element_size()
        if end - begin != count * size or start + end > len(data):
            raise ValueError(f"{path}: tensor {name!r}: data_offsets {info['data_offsets']} do not fit "
                             f"{info['dtype']} {info['shape']} in the file")
        raw = bytearray(data[start + begin:start + end])
        values = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = values.reshape(info["shape"]).clone()
        at = end
    if start + at != len(data):
        raise ValueError(f"{path}: {len(data) - start - at} bytes follow the last tensor")
    return tensors, metadata


def write_tensors(path, tensors, metadata=None):
    """Writes a dict of name -> tensor as a safetensors file, laid out as the
    format's reference writer lays it out (by dtype, then by name; the header
    padded with spaces to 8 bytes), replacing `path` atomically."""
    _check_host()
    entries = []
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        if t.dtype not in _NAME_OF:
            raise ValueError(f"tensor {name!r}: safetensors has no dtype for {t.dtype}")
        entries.append((name, _NAME_OF[t.dtype], t))
    entries.sort(key=lambda e: (-_ORDER[e[1]], e[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    blobs, offset = [], 0
    for name, dtype, t in entries:
        blob = _little_endian_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _little_endian_bytes(t):
    """The tensor's bytes as this (little-endian) host holds them."""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


# ---------------------------------------------------------------- typenet's type names

def f32(value):
    """A float template argument as typenet reads it: rounded to float32."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def format_constant(value):
    """A constant as typenet's type names print it (topology/layers.hpp's
    format_constant): six decimals with the trailing zeros cut, or, where
    those lose the float32 value, its shortest exact form."""
    v = f32(value)
    s = f"{v:f}".rstrip("0").rstrip(".") or "0"
    if f32(float(s)) == v:
        return s
    for digits in range(1, 18):
        s = f"{v:.{digits}g}"
        if f32(float(s)) == v:
            return s
    return repr(v)


def _split_arguments(text):
    """'Input<2>,Linear<16>,ReLU' -> ['Input<2>', 'Linear<16>', 'ReLU'] (commas at depth 0)."""
    parts, depth, current = [], 0, ""
    for c in text:
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"<": 1, ">": -1}.get(c, 0)
        current += c
    if current:
        parts.append(current)
    return parts


def parse_network(name):
    """A typenet type name, "Sequential<Input<2>,Linear<16>,ReLU,Linear<1>>",
    as a list of (layer, [arguments])."""
    m = re.fullmatch(r"Sequential<(.*)>", name.replace(" ", ""))
    if not m:
        raise ValueError(f"not a typenet network type: {name!r}")
    layers = []
    for part in _split_arguments(m.group(1)):
        lm = re.fullmatch(r"(\w+)(?:<(.*)>)?", part)
        if not lm:
            raise ValueError(f"{name!r}: cannot read the layer {part!r}")
        layers.append((lm.group(1), _split_arguments(lm.group(2)) if lm.group(2) else []))
    return layers


def _rms_norm(width, eps):
    if hasattr(nn, "RMSNorm"):
        return nn.RMSNorm(width, eps=eps)
    return RMSNorm(width, eps)


def build(network):
    """The torch.nn.Sequential of a typenet type name, with PyTorch's initial
    values (load() then puts a file's values in it)."""
    layers = parse_network(network)
    if not layers or layers[0][0] != "Input":
        raise ValueError(f"{network!r}: the first layer is not Input")
    width = int(layers[0][1][0])
    modules = []
    for k, (layer, args) in enumerate(layers[1:], start=1):
        a = [float(x) if x not in ("true", "false") else x == "true" for x in args]
        if layer == "Linear":
            out = int(args[0])
            # Linear<N> has a bias, also before BatchNorm, where typenet drops
            # it (it is cancelled) and writes it as zeros: PyTorch's then
            # learns only from rounding (its exact gradient is zero).
            modules.append(nn.Linear(width, out, bias=a[1] if len(a) > 1 else True))
            width = out
        elif layer == "BatchNorm":
            eps, momentum = (a + [1e-5, 0.1][len(a):])[:2]
            modules.append(nn.BatchNorm1d(width, eps=f32(eps), momentum=f32(momentum)))
        elif layer == "LayerNorm":
            eps, affine = (a + [1e-5, True][len(a):])[:2]
            modules.append(nn.LayerNorm(width, eps=f32(eps), elementwise_affine=affine))
        elif layer == "RMSNorm":
            modules.append(_rms_norm(width, f32(a[0]) if a else None))
        elif layer == "Dropout":
            modules.append(nn.Dropout(p=f32(a[0])))
        elif layer == "LeakyReLU":
            modules.append(nn.LeakyReLU(f32(a[0]) if a else 0.01))
        elif layer == "ELU":
            modules.append(nn.ELU(alpha=f32(a[0]) if a else 1.0))
        elif layer == "Softplus":
            beta, threshold = (a + [1.0, 20.0][len(a):])[:2]
            modules.append(nn.Softplus(beta=f32(beta), threshold=f32(threshold)))
        elif layer == "Softmax":
            modules.append(nn.Softmax(dim=-1))
        elif layer in ("ReLU", "Tanh", "Sigmoid", "GELU", "Identity", "SiLU", "Mish", "Hardswish") and not a:
            modules.append(getattr(nn, layer)())
        else:
            raise ValueError(f"{network!r}: typenet_torch does not know the layer {layer}{args or ''}")
    return nn.Sequential(*modules)


def layer_name(module, where="module"):
    """typenet's name of the layer a PyTorch module is ("Linear<16>",
    "BatchNorm", "LeakyReLU<0.2>"); ValueError for a module typenet has no
    layer for, naming it."""
    def unsupported(why):
        return ValueError(f"{where} ({module!r}): {why}")
    if isinstance(module, nn.Linear):
        return f"Linear<{module.out_features}>" if module.bias is not None else f"Linear<{module.out_features},false>"
    if isinstance(module, nn.BatchNorm1d):
        if not module.affine or not module.track_running_stats or module.momentum is None:
            raise unsupported("typenet's BatchNorm is affine, tracks running statistics and has a momentum")
        if f32(module.eps) == f32(1e-5) and f32(module.momentum) == f32(0.1):
            return "BatchNorm"
        return f"BatchNorm<{format_constant(module.eps)},{format_constant(module.momentum)}>"
    if isinstance(module, nn.LayerNorm):
        if len(module.normalized_shape) != 1:
            raise unsupported("typenet's LayerNorm normalises the last dimension only")
        affine = module.elementwise_affine
        if affine and getattr(module, "bias", True) is None:
            raise unsupported("typenet's affine LayerNorm has a bias")
        if f32(module.eps) == f32(1e-5) and affine:
            return "LayerNorm"
        return f"LayerNorm<{format_constant(module.eps)}{'' if affine else ',false'}>"
    if type(module).__name__ == "RMSNorm":
        if getattr(module, "weight", None) is None:
            raise unsupported("typenet's RMSNorm has a weight")
        return "RMSNorm" if module.eps is None else f"RMSNorm<{format_constant(module.eps)}>"
    if isinstance(module, nn.Dropout):
        return f"Dropout<{format_constant(module.p)}>"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU<{format_constant(module.negative_slope)}>"
    if isinstance(module, nn.ELU):
        return f"ELU<{format_constant(module.alpha)}>"
    if isinstance(module, nn.GELU):
        if getattr(module, "approximate", "none") != "none":
            raise unsupported("typenet's GELU is the exact (erf) form")
        return "GELU"
    if isinstance(module, nn.Softplus):
        return f"Softplus<{format_constant(module.beta)},{format_constant(module.threshold)}>"
    if isinstance(module, nn.Softmax):
        if module.dim not in (-1, 1):
            raise unsupported("typenet's Softmax is over each sample's outputs (dim -1)")
        return "Softmax"
    for simple in ("ReLU", "Tanh", "Sigmoid", "Identity", "SiLU", "Mish", "Hardswish"):
        if type(module) is getattr(nn, simple):
            return simple
    raise unsupported("typenet has no such layer")


def network_type(layers):
    """typenet's type name of a list of PyTorch modules, e.g.
    "Sequential<Input<2>,Linear<16>,ReLU,Linear<1>>" (Input from the first
    Linear's in_features)."""
    names = [layer_name(m, f"layer {i}") for i, m in enumerate(layers)]
    if not layers or not isinstance(layers[0], nn.Linear):
        raise ValueError("the first layer must be an nn.Linear (its in_features is typenet's Input)")
    return "Sequential<" + ",".join([f"Input<{layers[0].in_features}>"] + names) + ">"


# ---------------------------------------------------------------- models

def load(path):
    """The torch.nn.Sequential a typenet safetensors file describes, with the
    file's values in it (strict load_state_dict), in the file's float dtype
    (float32 or float64; a file of float16 or bfloat16 values stays so). Like
    every new module it is in training mode: call .eval() for inference.
    Raises ValueError when the file names no typenet network (build the
    module yourself and load_state_dict(read_tensors(path)[0]))."""
    tensors, metadata = read_tensors(path)
    if NETWORK_KEY not in metadata:
        raise ValueError(f"{path}: its metadata names no typenet network ({NETWORK_KEY})")
    net = build(metadata[NETWORK_KEY])
    floats = {t.dtype for t in tensors.values() if t.is_floating_point()}
    if len(floats) == 1:
        net = net.to(floats.pop())
    net.load_state_dict(tensors, strict=True)
    return net


def save(module, path, names=None):
    """Writes a model as a safetensors file typenet::load_safetensors reads.

    module: an nn.Sequential of layers typenet has (names=None); its tensors
        are named as its state_dict() names them ("0.weight", ...).
    names: for any other module, one entry per typenet layer after Input, in
        order: the dotted path of a submodule ("net.fc1"), or, for a layer
        with no values that is no submodule (an activation applied as a
        function), that layer as a module (nn.ReLU()). The tensors keep their
        names in module.state_dict() ("net.fc1.weight"); in C++,
        SafetensorsNames{.prefix = "net.", .modules = {"fc1", ...}} reads them.

    The metadata names the typenet type the layers make (NETWORK_KEY)."""
    if names is None:
        if not isinstance(module, nn.Sequential):
            raise ValueError("typenet_torch.save: a module that is not an nn.Sequential needs names=[...]")
        entries = [(str(i), m) for i, m in enumerate(module)]
    else:
        entries = []
        for i, entry in enumerate(names):
            if isinstance(entry, nn.Module):
                if entry.state_dict():
                    raise ValueError(f"typenet_torch.save: names[{i}] is a module with values; give its path")
                entries.append((None, entry))
            else:
                try:
                    entries.append((entry, module.get_submodule(entry)))
                except AttributeError as e:
                    raise ValueError(f"typenet_torch.save: names[{i}] = {entry!r} is no submodule: {e}") from None
    tensors = {}
    for prefix, m in entries:
        if prefix is None:
            continue
        for key, value in m.state_dict().items():
            tensors[f"{prefix}.{key}"] = value
    metadata = {"format": "pt", NETWORK_KEY: network_type([m for _, m in entries])}
    write_tensors(path, tensors, metadata)

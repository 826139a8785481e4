"""Static report of the built extension's sm_90 SASS (no GPU needed).

Extracts the sm_90 cubins of ``zfcuda._C`` with ``cuobjdump -xelf``, disassembles them with
``nvdisasm`` (which names the subroutines a kernel calls, e.g. ``$__internal_0_$__cuda_sm20_div_s64``)
and reads ``cuobjdump --dump-resource-usage``. For every kernel it reports the static instruction
count (kernel body and the subroutines placed in its section), registers, stack and local (spill)
bytes, CALL sites into the 64-bit division/remainder routines, inline 32-bit divisions
(``I2F[.U32].RP`` followed by ``MUFU.RCP``), global loads/stores by width and whether loads take the
read-only path (``LDG.E...CONSTANT``). The same figures are given for torch's
``max_pool_forward_nchw``/``max_pool_backward_nchw`` kernels from ``libtorch_cuda.so`` as a
reference. Method: ``/work/shared/research/gpu-kernels.md`` section 3.

Conventions the report relies on:

* Every kernel of the extension is ``task_kernel<Task>``, one thread per work index of a task type
  from ``csrc/kernels/pool2d_tasks.h`` or ``batch_tasks.h``. Elements per thread follow from the
  task (``ELEMENTS_PER_THREAD_RULES``): a pooling strip of ``kPoolStrip`` outputs (NCHW, compiled-in
  window), an unpooling strip of ``kPoolStrip * S`` inputs (``S`` channels_last), a batch strip of
  ``kBatchStrip``; the strip sizes are read from those headers. ``instructions_per_element =
  body_instructions / V``.
* Hot kernels: the tasks' and the old kernels' names (``HOT_KERNEL_WORDS``). ``--check`` fails
  (exit 1) if any hot kernel has a CALL to a 64-bit div/rem routine, or LOCAL > 0 or STACK > 0.

Usage::

    python benchmarks/sass_report.py [--so PATH] [--out benchmarks/results/sass_sm90.json] [--check]
    python benchmarks/sass_report.py --self-test

Needs the PyPI wheels ``nvidia-cuda-cuobjdump`` and ``nvidia-cuda-nvdisasm`` (or the tools on
PATH); ``c++filt`` (binutils) for demangling, if present.
"""

from __future__ import annotations

import argparse
import glob
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ARCH = "sm_90"

KERNELS_DIR = Path(__file__).resolve().parent.parent / "csrc" / "kernels"


def _strip_constant(header: str, name: str) -> int:
    """``constexpr int <name> = N;`` read from csrc/kernels/<header>."""
    match = re.search(rf"constexpr int {name} = (\d+);", (KERNELS_DIR / header).read_text())
    if match is None:
        raise ToolError(f"{name} not found in csrc/kernels/{header}")
    return int(match.group(1))


# (regex searched in the kernel's head, ``task_kernel<Task<...>>``) -> elements per thread, given the
# match and the strip sizes. First match wins; a kernel no rule matches handles 1 element per thread.
ELEMENTS_PER_THREAD_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], dict[str, int]], int]]] = [
    (re.compile(r"MaxPoolTask<[^<]*FixedWindow<\d+, \d+, \d+>, false"), lambda m, c: c["kPoolStrip"]),
    (re.compile(r"UnpoolTask<[^<]*FixedWindow<\d+, (\d+), \d+>, false"), lambda m, c: c["kPoolStrip"] * int(m.group(1))),
    (re.compile(r"UnpoolTask<[^<]*FixedWindow<\d+, (\d+), \d+>, true"), lambda m, c: int(m.group(1))),
    (re.compile(r"(?:OcclusionTask|PatchedCropTask)<"), lambda m, c: c["kBatchStrip"]),
]

STRIP_CONSTANTS = (("pool2d_tasks.h", "kPoolStrip"), ("batch_tasks.h", "kBatchStrip"))

# Words that make a kernel "hot" (searched in the demangled name): the tasks, and the kernel names
# before them (so the report reads older builds too).
HOT_KERNEL_WORDS = ("MaxPoolTask", "UnpoolTask", "GatherTask", "OcclusionTask", "PatchedCropTask",
                    "max_pool2d", "unpool2d", "gather2d", "occlusion", "patched_crop")

# torch's reference kernels (DilatedMaxPool2d.cu), matched on the demangled name.
TORCH_KERNEL_RE = re.compile(r"max_pool_(forward|backward)_nchw<")

TYPE_SHORT = {
    "float": "f32",
    "double": "f64",
    "c10::Half": "f16",
    "c10::BFloat16": "bf16",
    "__half": "f16",
    "__nv_bfloat16": "bf16",
    "at::Half": "f16",
    "at::BFloat16": "bf16",
    "unsigned char": "u8",
    "signed char": "i8",
    "char": "i8",
    "short": "i16",
    "int": "i32",
    "unsigned int": "u32",
    "long": "i64",
    "long long": "i64",
    "unsigned long": "u64",
    "bool": "bool",
}

DIV64_RE = re.compile(r"__cuda_sm\d+_(?:div|rem)_[su]64|_(?:div|rem)_[su]64\b")
INSTR_RE = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
LABEL_RE = re.compile(r"^(\S+):\s*$")
SECTION_RE = re.compile(r"^\s*\.section\s+\.text\.([^,\s]+)")
TYPE_FUNC_RE = re.compile(r"^\s*\.type\s+([^,\s]+),\s*@function")
ENTRY_RE = re.compile(r"^\s*\.other\s+([^,\s]+),.*STO_CUDA_ENTRY")
CALL_TARGET_RE = re.compile(r"`\(([^)]+)\)")
BRA_TARGET_RE = re.compile(r"^BRA\S*\s+`\(([^)]+)\)")
WIDTHS = ("U8", "S8", "U16", "S16", "32", "64", "128", "256")
DIV32_WINDOW = 6  # MUFU.RCP must follow the I2F.RP within this many instructions


class ToolError(RuntimeError):
    """A required tool or input is missing or failed."""


@dataclass
class SassStats:
    """Static figures of one function's SASS.

    Attributes:
        body_instructions: Instructions of the kernel itself (NOP padding and the trailing
            self-branch excluded).
        subroutine_instructions: Instructions of the subroutines nvdisasm placed in its section.
        subroutines: Subroutine name (``$__internal_N_$`` prefix removed) -> instructions.
        calls: CALL target (prefix removed) -> number of CALL sites.
        div64_calls: CALL sites into 64-bit div/rem routines.
        inline_div32: ``I2F[.U32].RP`` ... ``MUFU.RCP`` sequences in the body.
        ldg: Global loads: ``total``, ``constant`` (read-only path) and ``by_width``.
        stg: Global stores: ``total`` and ``by_width``.
        local_ld_st: ``LDL``/``STL`` instructions (local memory: spills or local arrays).
        imad_wide: ``IMAD.WIDE*`` instructions (64-bit address/index arithmetic).
        bssy: ``BSSY`` (divergent reconvergence regions).
    """

    body_instructions: int = 0
    subroutine_instructions: int = 0
    subroutines: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    div64_calls: int = 0
    inline_div32: int = 0
    ldg: dict = field(default_factory=lambda: {"total": 0, "constant": 0, "by_width": {}})
    stg: dict = field(default_factory=lambda: {"total": 0, "by_width": {}})
    local_ld_st: int = 0
    imad_wide: int = 0
    bssy: int = 0


@dataclass
class _Function:
    name: str
    entry: bool = False
    body: list[tuple[str, str]] = field(default_factory=list)  # (label before it, instruction)
    subs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _strip_internal(name: str) -> str:
    """``$__internal_0_$__cuda_sm20_div_s64`` -> ``__cuda_sm20_div_s64``."""
    return re.sub(r"^\$__internal_\d+_\$", "", name)


def _opcode(instr: str) -> str:
    """The opcode of a SASS instruction, predicate (``@P0``, ``@!PT``) removed."""
    parts = instr.split()
    if parts and parts[0].startswith("@"):
        parts = parts[1:]
    return parts[0] if parts else ""


def _width(opcode: str) -> str:
    """The access width of an LDG/STG opcode: U8, S8, U16, S16, 32, 64 or 128."""
    for token in opcode.split(".")[1:]:
        if token in WIDTHS:
            return token
    return "32"


def parse_nvdisasm(text: str) -> dict[str, _Function]:
    """Splits ``nvdisasm -c`` output into functions, each with its body and subroutines.

    Args:
        text: The disassembly of one cubin.

    Returns:
        Mangled function name -> its instructions, the kernel's own body apart from the
        subroutines (``.type X,@function`` labels) that follow it in the same section.
    """
    functions: dict[str, _Function] = {}
    current: _Function | None = None
    target: list | None = None
    declared: set[str] = set()
    label = ""
    for line in text.splitlines():
        m = SECTION_RE.match(line)
        if m:
            current = functions.setdefault(m.group(1), _Function(m.group(1)))
            target, declared, label = current.body, set(), ""
            continue
        if line.startswith("//----") and "SYMBOLS" in line:
            current = target = None
            continue
        if current is None:
            continue
        if m := TYPE_FUNC_RE.match(line):
            declared.add(m.group(1))
            continue
        if m := ENTRY_RE.match(line):
            if m.group(1) == current.name:
                current.entry = True
            continue
        if m := LABEL_RE.match(line):
            label = m.group(1)
            if label in declared and label != current.name:
                target = current.subs.setdefault(label, [])
            elif label == current.name or label == ".text." + current.name:
                target = current.body
            continue
        if (m := INSTR_RE.match(line)) and target is not None:
            target.append((label, m.group(2)))
    return functions


def _is_padding(label: str, instr: str) -> bool:
    op = _opcode(instr)
    if op == "NOP":
        return True
    m = BRA_TARGET_RE.match(instr)
    return bool(m and m.group(1) == label)  # "L: BRA L" after the last EXIT/RET


def sass_stats(fn: _Function) -> SassStats:
    """Counts the static figures of one parsed function.

    Args:
        fn: A function from ``parse_nvdisasm``.

    Returns:
        Its ``SassStats``.
    """
    st = SassStats()
    body = [instr for label, instr in fn.body if not _is_padding(label, instr)]
    subs = {k: [instr for label, instr in v if not _is_padding(label, instr)] for k, v in fn.subs.items()}
    st.body_instructions = len(body)
    st.subroutines = {_strip_internal(k): len(v) for k, v in subs.items()}
    st.subroutine_instructions = sum(st.subroutines.values())
    calls: Counter[str] = Counter()
    ldg_w: Counter[str] = Counter()
    stg_w: Counter[str] = Counter()
    all_instrs = body + [i for v in subs.values() for i in v]
    for instr in all_instrs:
        op = _opcode(instr)
        if op.startswith("CALL"):
            m = CALL_TARGET_RE.search(instr)
            calls[_strip_internal(m.group(1)) if m else "<indirect>"] += 1
        elif op.startswith("LDG"):
            st.ldg["total"] += 1
            ldg_w[_width(op)] += 1
            if ".CONSTANT" in op:
                st.ldg["constant"] += 1
        elif op.startswith("STG"):
            st.stg["total"] += 1
            stg_w[_width(op)] += 1
        elif op.startswith(("LDL", "STL")):
            st.local_ld_st += 1
        elif op.startswith("IMAD.WIDE"):
            st.imad_wide += 1
        elif op.startswith("BSSY"):
            st.bssy += 1
    st.ldg["by_width"] = {w: ldg_w[w] for w in WIDTHS if w in ldg_w}
    st.stg["by_width"] = {w: stg_w[w] for w in WIDTHS if w in stg_w}
    st.calls = dict(sorted(calls.items()))
    st.div64_calls = sum(n for k, n in calls.items() if DIV64_RE.search(k))
    ops = [_opcode(i) for i in body]
    for k, op in enumerate(ops):
        parts = op.split(".")
        if parts[0] == "I2F" and "RP" in parts and not any(p in ("U64", "S64", "F64") for p in parts):
            if any(o.startswith("MUFU.RCP") for o in ops[k + 1 : k + 1 + DIV32_WINDOW]):
                st.inline_div32 += 1
    return st


def parse_resource_usage(text: str) -> dict[str, dict[str, int]]:
    """Parses ``cuobjdump --dump-resource-usage`` output.

    Args:
        text: The tool's output (any number of ELF blocks).

    Returns:
        Mangled function name -> {"REG", "STACK", "SHARED", "LOCAL"}.
    """
    out: dict[str, dict[str, int]] = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^\s*Function\s+(\S+?):\s*$", line)
        if m:
            name = m.group(1)
            continue
        if name and "REG:" in line:
            out[name] = {k: int(v) for k, v in re.findall(r"\b(REG|STACK|SHARED|LOCAL):(\d+)", line)}
            name = None
    return out


# ----------------------------------------------------------------------------------------------
# Names


def demangle(names: Iterable[str]) -> dict[str, str]:
    """Demangles names with ``c++filt`` when it is on PATH; otherwise keeps them mangled.

    Args:
        names: Mangled names.

    Returns:
        Mangled -> demangled.
    """
    names = list(dict.fromkeys(names))
    cxxfilt = shutil.which("c++filt")
    if not names or not cxxfilt:
        return {n: n for n in names}
    res = subprocess.run([cxxfilt], input="\n".join(names) + "\n", capture_output=True, text=True, check=True)
    lines = res.stdout.splitlines()
    if len(lines) != len(names):
        return {n: n for n in names}
    return dict(zip(names, lines, strict=True))


def _split_top(s: str, sep: str = ",") -> list[str]:
    """Splits ``s`` at ``sep`` outside <>, (), {} and []."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "<({[":
            depth += 1
        elif ch in ">)}]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _matching(s: str, start: int) -> int:
    """Index of the bracket closing the one at ``s[start]``."""
    pairs = {"<": ">", "(": ")", "{": "}", "[": "]"}
    stack = []
    for i in range(start, len(s)):
        if s[i] in pairs:
            stack.append(pairs[s[i]])
        elif stack and s[i] == stack[-1]:
            stack.pop()
            if not stack:
                return i
    return len(s) - 1


def split_signature(demangled: str) -> tuple[str, list[str]]:
    """Splits a demangled kernel name into its qualified name and top-level template arguments.

    Args:
        demangled: e.g. ``void ns::k<float, 3>(float const*, int)``.

    Returns:
        (``ns::k``, [``float``, ``3``]); ``(anonymous namespace)::`` is dropped.
    """
    s = demangled.replace("(anonymous namespace)::", "")
    if s.startswith("void "):
        s = s[5:]
    # The qualified name ends at the first top-level "<" or "(".
    i = 0
    while i < len(s) and s[i] not in "<(":
        i += 1
    name = s[:i]
    args: list[str] = []
    if i < len(s) and s[i] == "<":
        args = _split_top(s[i + 1 : _matching(s, i)])
    return name, args


def _type_short(arg: str) -> str | None:
    arg = arg.replace(" const", "").strip()
    return TYPE_SHORT.get(arg)


@dataclass
class KernelName:
    """Readable facets of a kernel name."""

    short: str
    dtype: str
    head: str


def _short_arg(arg: str) -> str:
    """A template argument in few characters: ``f32``, ``3x3/2p0`` for a FixedWindow, ``runtime``."""
    t = _type_short(arg)
    if t:
        return t
    window = re.search(r"FixedWindow<(\d+), (\d+), (\d+)>", arg)
    if window:
        k, stride, pad = window.groups()
        return f"{k}x{k}/{stride}p{pad}"
    if "RuntimeWindow" in arg:
        return "runtime"
    if arg in ("false", "true"):
        return "channels_last" if arg == "true" else "nchw"
    return re.sub(r"<.*", "", re.sub(r"^\([\w ]+\)", "", arg)).split("::")[-1]


def describe(demangled: str) -> KernelName:
    """Short name, dtype string and head (``name<args>``) of a demangled kernel name.

    ``task_kernel<MaxPoolTask<float, unsigned char, FixedWindow<3, 2, 0>, false, IntDivider<...>>>``
    reads ``MaxPoolTask<f32,u8,3x3/2p0,nchw>`` (the divider is left out).

    Args:
        demangled: The demangled (or, without c++filt, mangled) name.

    Returns:
        A ``KernelName``.
    """
    name, args = split_signature(demangled)
    head = name + (f"<{', '.join(args)}>" if args else "")
    if name.endswith("task_kernel") and len(args) == 1:
        name, args = split_signature(args[0])
        args = [a for a in args if "Divider" not in a]
    base = name.split("::")[-1]
    short_args = [_short_arg(a) for a in args]
    dtypes = [t for t in map(_type_short, args) if t]
    short = base + (f"<{','.join(short_args)}>" if args else "")
    return KernelName(short=short, dtype=",".join(dtypes) or "?", head=head)


def elements_per_thread(head: str) -> int:
    """Elements per thread of a kernel, from ``ELEMENTS_PER_THREAD_RULES`` (default 1).

    Args:
        head: The kernel's ``qualified_name<template args>``.

    Returns:
        V >= 1.
    """
    constants = {name: _strip_constant(header, name) for header, name in STRIP_CONSTANTS}
    for pattern, rule in ELEMENTS_PER_THREAD_RULES:
        m = pattern.search(head)
        if m:
            return max(1, int(rule(m, constants)))
    return 1


def is_hot(demangled: str) -> bool:
    """Whether a kernel is one of the hot pooling/occlusion kernels."""
    return any(w in demangled for w in HOT_KERNEL_WORDS)


# ----------------------------------------------------------------------------------------------
# Tools and inputs


def find_tool(name: str) -> str:
    """Locates cuobjdump/nvdisasm: the interpreter's ``nvidia/*/bin``, then PATH.

    Args:
        name: ``cuobjdump`` or ``nvdisasm``.

    Returns:
        The executable's path.

    Raises:
        ToolError: Neither place has it.
    """
    roots = list(site.getsitepackages()) + [site.getusersitepackages()] + sys.path
    for root in dict.fromkeys(r for r in roots if r and os.path.isdir(r)):
        for cand in sorted(glob.glob(os.path.join(root, "nvidia", "*", "bin", name)), reverse=True):
            if os.access(cand, os.X_OK):
                return cand
    found = shutil.which(name)
    if found:
        return found
    raise ToolError(
        f"{name} not found in this interpreter's site-packages (nvidia/*/bin) nor on PATH; "
        f"install it with: {sys.executable} -m pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm"
    )


def _run(cmd: list[str], cwd: str | None = None) -> str:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if res.returncode != 0:
        raise ToolError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()[:500]}")
    return res.stdout


def find_extension() -> str:
    """The path of ``zfcuda._C`` as Python would import it, without importing torch if possible.

    Asks the meta path finders (the scikit-build-core editable finder among them) for
    ``zfcuda._C`` inside the top-level package's search locations; falls back to
    ``importlib.util.find_spec("zfcuda._C")``, which imports ``zfcuda``.

    Returns:
        The extension's file path.

    Raises:
        ToolError: zfcuda or its compiled extension is not installed.
    """
    parent = importlib.util.find_spec("zfcuda")
    if parent is None:
        raise ToolError("zfcuda is not installed in this interpreter (or pass --so PATH)")
    locations = list(parent.submodule_search_locations or [])
    for finder in sys.meta_path:
        fs = getattr(finder, "find_spec", None)
        if fs is None:
            continue
        try:
            spec = fs("zfcuda._C", locations)
        except Exception:  # noqa: BLE001 - a finder that cannot answer is skipped
            continue
        if spec is not None and spec.origin and os.path.isfile(spec.origin):
            return spec.origin
    spec = importlib.util.find_spec("zfcuda._C")
    if spec is None or not spec.origin:
        raise ToolError("zfcuda._C not found: build the extension (pip install -e .) or pass --so PATH")
    return spec.origin


def torch_info() -> tuple[str | None, str | None]:
    """(torch version, path of libtorch_cuda.so or None), without importing torch."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None, None
    spec = importlib.util.find_spec("torch")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        lib = os.path.join(loc, "lib", "libtorch_cuda.so")
        if os.path.isfile(lib):
            return version, lib
    return version, None


def list_elfs(cuobjdump: str, binary: str) -> list[str]:
    """ELF (cubin) names embedded in ``binary``, in order (none for a binary without device code)."""
    try:
        listing = _run([cuobjdump, "--list-elf", binary])
    except ToolError as e:
        if "does not contain device code" in str(e):
            return []
        raise
    return re.findall(r"ELF file\s+\d+:\s+(\S+)", listing)


def _is_arch(elf: str, arch: str = ARCH) -> bool:
    return elf.endswith(f".{arch}.cubin")


def analyse_cubin(cuobjdump: str, nvdisasm: str, cubin: str, keep: Callable[[str, str], bool]) -> list[dict]:
    """Per-kernel figures of one cubin.

    Args:
        cuobjdump: Path of cuobjdump.
        nvdisasm: Path of nvdisasm.
        cubin: Path of the extracted cubin.
        keep: (mangled, demangled) -> whether to report the function.

    Returns:
        One dict per reported function.
    """
    functions = parse_nvdisasm(_run([nvdisasm, "-c", cubin]))
    resources = parse_resource_usage(_run([cuobjdump, "--dump-resource-usage", cubin]))
    names = demangle(functions)
    rows = []
    for mangled, fn in functions.items():
        dem = names.get(mangled, mangled)
        if not keep(mangled, dem):
            continue
        st = sass_stats(fn)
        kn = describe(dem)
        v = elements_per_thread(kn.head)
        res = resources.get(mangled, {})
        rows.append(
            {
                "short_name": kn.short,
                "dtype": kn.dtype,
                "demangled": dem,
                "mangled": mangled,
                "cubin": os.path.basename(cubin),
                "entry": fn.entry,
                "hot": is_hot(dem),
                "instructions": st.body_instructions + st.subroutine_instructions,
                "elements_per_thread": v,
                "instructions_per_element": round(st.body_instructions / v, 1),
                "registers": res.get("REG"),
                "stack_bytes": res.get("STACK"),
                "local_bytes": res.get("LOCAL"),
                "shared_bytes": res.get("SHARED"),
                **asdict(st),
            }
        )
    return rows


def analyse_extension(cuobjdump: str, nvdisasm: str, so: str, tmp: str) -> list[dict]:
    """All kernels of the extension's sm_90 cubins.

    Raises:
        ToolError: The extension holds no sm_90 cubin.
    """
    elfs = [e for e in list_elfs(cuobjdump, so) if _is_arch(e)]
    if not elfs:
        raise ToolError(f"{so} holds no {ARCH} cubin (a CPU-only build, or TORCH_CUDA_ARCH_LIST without 9.0)")
    _run([cuobjdump, "-xelf", "all", so], cwd=tmp)
    rows = []
    for elf in elfs:
        rows += analyse_cubin(cuobjdump, nvdisasm, os.path.join(tmp, elf), lambda m, d: True)
    return rows


def analyse_torch(cuobjdump: str, nvdisasm: str, lib: str, tmp: str) -> list[dict]:
    """torch's max_pool_{forward,backward}_nchw kernels from libtorch_cuda.so.

    ``cuobjdump -res-usage -arch sm_90`` prints one block per sm_90 ELF (in --list-elf order,
    sm_90a included) in about a second; the block naming max_pool_forward_nchw gives the ELF,
    which alone is extracted and disassembled.
    """
    usage = _run([cuobjdump, "-res-usage", "-arch", ARCH, lib])
    blocks = usage.split("Fatbin elf code:")[1:]
    hits = [k for k, b in enumerate(blocks) if "max_pool_forward_nchw" in b or "max_pool_backward_nchw" in b]
    if not hits:
        return []
    elfs = [e for e in list_elfs(cuobjdump, lib) if re.search(rf"\.{ARCH}a?\.cubin$", e)]
    if len(elfs) != len(blocks):
        raise ToolError(f"{lib}: {len(blocks)} resource blocks but {len(elfs)} {ARCH} ELFs; cannot pair them")
    rows = []
    for k in hits:
        _run([cuobjdump, "-xelf", elfs[k], lib], cwd=tmp)
        rows += analyse_cubin(
            cuobjdump, nvdisasm, os.path.join(tmp, elfs[k]), lambda m, d: bool(TORCH_KERNEL_RE.search(d))
        )
    return rows


# ----------------------------------------------------------------------------------------------
# Report


def check_failures(kernels: list[dict]) -> list[str]:
    """Why each hot kernel fails the gate (64-bit div/rem CALL, LOCAL > 0 or STACK > 0).

    No hot kernel at all is a failure too: the gate would otherwise pass on a wrong binary.
    """
    if not any(k["hot"] for k in kernels):
        words = ", ".join(HOT_KERNEL_WORDS)
        return [f"no hot kernel ({words}) in the {ARCH} SASS: wrong .so, or HOT_KERNEL_WORDS out of date"]
    out = []
    for k in kernels:
        if not k["hot"]:
            continue
        why = []
        if k["div64_calls"]:
            sites = ", ".join(f"{n}x {c}" for c, n in k["calls"].items() if DIV64_RE.search(c))
            why.append(f"{k['div64_calls']} CALL site(s) into 64-bit div/rem ({sites})")
        if k["local_bytes"]:
            why.append(f"LOCAL {k['local_bytes']} bytes (spills)")
        if k["stack_bytes"]:
            why.append(f"STACK {k['stack_bytes']} bytes")
        if why:
            out.append(f"{k['short_name']} [{k['dtype']}] ({k['cubin']}): " + "; ".join(why))
    return out


def _mem(d: dict, constant: bool) -> str:
    s = " ".join(f"{n}x{w}" for w, n in d["by_width"].items()) or "0"
    return s + (f" C{d['constant']}" if constant and d["constant"] else "")


def format_table(rows: list[dict], width: int = 58) -> str:
    """A fixed-width text table of kernel rows."""
    head = (
        f"{'kernel':<{width}} {'dtype':<13} {'instr':>9} {'/elem':>6} {'regs':>4} {'spill':>5} "
        f"{'div64':>5} {'div32':>5}  LDG | STG"
    )
    lines = [head, "-" * len(head)]
    for k in rows:
        name = k["short_name"] if len(k["short_name"]) <= width else k["short_name"][: width - 1] + "…"
        instr = f"{k['body_instructions']}+{k['subroutine_instructions']}"
        spill = f"{k['local_bytes'] or 0}/{k['stack_bytes'] or 0}"
        lines.append(
            f"{name:<{width}} {k['dtype']:<13} {instr:>9} {k['instructions_per_element']:>6} "
            f"{k['registers'] if k['registers'] is not None else '?':>4} {spill:>5} {k['div64_calls']:>5} "
            f"{k['inline_div32']:>5}  {_mem(k['ldg'], True)} | {_mem(k['stg'], False)}"
        )
    return "\n".join(lines)


def summary(kernels: list[dict], failures: list[str]) -> dict:
    """Totals over the extension's kernels."""
    hot = [k for k in kernels if k["hot"]]
    return {
        "kernels": len(kernels),
        "hot_kernels": len(hot),
        "hot_with_div64_calls": sum(1 for k in hot if k["div64_calls"]),
        "hot_div64_call_sites": sum(k["div64_calls"] for k in hot),
        "hot_spilling": sum(1 for k in hot if (k["local_bytes"] or 0) or (k["stack_bytes"] or 0)),
        "max_registers": max((k["registers"] or 0 for k in kernels), default=0),
        "ldg_constant_kernels": sum(1 for k in kernels if k["ldg"]["constant"]),
        "check_passed": not failures,
        "check_failures": failures,
    }


def _sort_key(k: dict) -> tuple:
    return (not k["hot"], k["short_name"], k["dtype"])


def self_test() -> None:
    """Parses an inline SASS snippet and checks every counter; raises AssertionError on a miss."""
    snippet = """
//--------------------- .text._Z17some_hot_unpool2dPKfPfPh --------------------------
\t.section\t.text._Z17some_hot_unpool2dPKfPfPh,"ax",@progbits
        .global         _Z17some_hot_unpool2dPKfPfPh
        .type           _Z17some_hot_unpool2dPKfPfPh,@function
        .other          _Z17some_hot_unpool2dPKfPfPh,@"STO_CUDA_ENTRY STV_DEFAULT"
_Z17some_hot_unpool2dPKfPfPh:
.text._Z17some_hot_unpool2dPKfPfPh:
        /*0000*/                   LDC R1, c[0x0][0x28] ;
        /*0010*/                   I2F.U32.RP R4, UR4 ;
        /*0020*/                   ISETP.NE.U32.AND P3, PT, RZ, UR4, PT ;
        /*0030*/                   MUFU.RCP R4, R4 ;
        /*0040*/                   MOV R10, 0x60 ;
        /*0050*/                   CALL.REL.NOINC `($__internal_0_$__cuda_sm20_div_s64) ;
        /*0060*/                   LDG.E.CONSTANT R2, desc[UR4][R2.64] ;
        /*0070*/               @P0 LDG.E.128 R4, desc[UR4][R6.64] ;
        /*0080*/                   STG.E.U8 desc[UR4][R8.64], R0 ;
        /*0090*/                   EXIT ;
        .weak           $__internal_0_$__cuda_sm20_div_s64
        .type           $__internal_0_$__cuda_sm20_div_s64,@function
$__internal_0_$__cuda_sm20_div_s64:
        /*00a0*/                   I2F.U64.RP R22, R14 ;
        /*00b0*/                   MUFU.RCP R22, R22 ;
        /*00c0*/                   RET.REL.NODEC R10 `(_Z17some_hot_unpool2dPKfPfPh) ;
.L_x_9:
        /*00d0*/                   BRA `(.L_x_9);
        /*00e0*/                   NOP;
.L_x_10:
"""
    fns = parse_nvdisasm(snippet)
    (mangled,) = fns
    fn = fns[mangled]
    st = sass_stats(fn)
    assert fn.entry
    assert st.body_instructions == 10, st
    assert st.subroutine_instructions == 3, st
    assert st.subroutines == {"__cuda_sm20_div_s64": 3}, st
    assert st.calls == {"__cuda_sm20_div_s64": 1}, st
    assert st.div64_calls == 1, st
    assert st.inline_div32 == 1, st  # the I2F.U64.RP of the routine is not a 32-bit division
    assert st.ldg == {"total": 2, "constant": 1, "by_width": {"128": 1, "32": 1}}, st
    assert st.stg == {"total": 1, "by_width": {"U8": 1}}, st
    task = (
        "void zfcuda::cuda::task_kernel<zfcuda::UnpoolTask<float, unsigned char, zfcuda::FixedWindow<3, 2, 0>, false, "
        "at::cuda::detail::IntDivider<unsigned int> > >(zfcuda::UnpoolTask<float, unsigned char, zfcuda::FixedWindow<3, "
        "2, 0>, false, at::cuda::detail::IntDivider<unsigned int> >, int)"
    )
    kn = describe(task)
    assert kn.short == "UnpoolTask<f32,u8,3x3/2p0,nchw>" and kn.dtype == "f32,u8", kn
    assert elements_per_thread(kn.head) == 2 * _strip_constant("pool2d_tasks.h", "kPoolStrip"), kn
    assert elements_per_thread(describe(task.replace("false", "true")).head) == 2
    assert elements_per_thread(describe(task.replace("zfcuda::FixedWindow<3, 2, 0>", "zfcuda::RuntimeWindow")).head) == 1
    assert is_hot(task) and not is_hot("void at::native::vectorized_elementwise_kernel<4>")
    assert parse_resource_usage(" Function _Zk:\n  REG:40 STACK:8 SHARED:0 LOCAL:4 CONSTANT[0]:560\n") == {
        "_Zk": {"REG": 40, "STACK": 8, "SHARED": 0, "LOCAL": 4}
    }
    print("self-test passed")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 --check failed, 2 tool or input missing)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--so", help="the extension .so (default: zfcuda._C as Python would import it)")
    p.add_argument("--out", default="benchmarks/results/sass_sm90.json", help="JSON output path")
    p.add_argument("--check", action="store_true", help="exit 1 if a hot kernel calls 64-bit div/rem or spills")
    p.add_argument("--self-test", action="store_true", help="test the SASS parser on an inline snippet")
    p.add_argument("--no-torch", action="store_true", help="skip torch's reference kernels")
    args = p.parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    try:
        cuobjdump, nvdisasm = find_tool("cuobjdump"), find_tool("nvdisasm")
        so = os.path.abspath(args.so) if args.so else find_extension()
        if not os.path.isfile(so):
            raise ToolError(f"{so}: no such file")
        version_out = _run([nvdisasm, "--version"])
        nv_version = next((ln.strip() for ln in version_out.splitlines() if "release" in ln), version_out.strip())
        torch_version, torch_lib = torch_info()
        with tempfile.TemporaryDirectory(prefix="sass_report_") as tmp:
            os.makedirs(os.path.join(tmp, "ext"))
            os.makedirs(os.path.join(tmp, "torch"))
            kernels = sorted(analyse_extension(cuobjdump, nvdisasm, so, os.path.join(tmp, "ext")), key=_sort_key)
            torch_kernels, torch_error = [], None
            if torch_lib and not args.no_torch:
                try:  # the reference is informative only: its failure does not fail the report
                    torch_kernels = analyse_torch(cuobjdump, nvdisasm, torch_lib, os.path.join(tmp, "torch"))
                    torch_kernels.sort(key=lambda k: (k["short_name"], k["dtype"]))
                except ToolError as e:
                    torch_error = str(e)
                    print(f"sass_report: warning: no torch reference: {e}", file=sys.stderr)
    except ToolError as e:
        print(f"sass_report: {e}", file=sys.stderr)
        return 2
    failures = check_failures(kernels)
    report = {
        "arch": ARCH,
        "extension": so,
        "torch": torch_version,
        "torch_lib": torch_lib,
        "nvdisasm": nv_version,
        "kernels": kernels,
        "torch_kernels": torch_kernels,
        "torch_error": torch_error,
        "summary": summary(kernels, failures),
    }
    print(f"{ARCH} SASS of {so} (nvdisasm {nv_version}; instr = body+subroutines, spill = LOCAL/STACK bytes)")
    print(format_table(kernels))
    if torch_kernels:
        print(f"\ntorch {torch_version} reference ({torch_lib}):")
        print(format_table(torch_kernels))
    s = report["summary"]
    print(
        f"\n{s['kernels']} kernels, {s['hot_kernels']} hot; hot with 64-bit div/rem CALLs: "
        f"{s['hot_with_div64_calls']} ({s['hot_div64_call_sites']} sites); hot spilling: {s['hot_spilling']}"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    if args.check:
        if failures:
            print(f"\nSASS check FAILED ({len(failures)} hot kernel(s)):", file=sys.stderr)
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            return 1
        print("SASS check passed: no hot kernel calls a 64-bit div/rem routine or spills")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed and memory benchmark, in one run on this machine: AURAL's noise_reduction beside the
unprocessed input and the classical baselines; the whole `aural regenerate` chain beside the
classical chains and DeepFilterNet3 (where installed); a 10-second memo regenerated end to
end; one-hour files streamed through `aural apply` and `aural regenerate` (peak memory);
every shipped stage through `aural apply` on 1- and 10-minute files (speed, flat memory);
the data tools (preprocess, simulate); and a folder of one-minute files through `aural
regenerate` in plain folder mode and on a local Ray cluster (`--cluster local`, needs Ray).
Writes OUT.json and OUT.md (default out/benchmark.*, untracked; the README's figures come
from `--out reports/benchmark.json` and `--only cluster --out reports/benchmark_cluster.json`).

    python scripts/benchmark.py                          # everything, one-hour memory runs
    python scripts/benchmark.py --hours 0.1 --only speed,regenerate
    python scripts/benchmark.py --only cluster --out reports/benchmark_cluster.json
    python scripts/benchmark.py --only stages --out reports/benchmark_stages.json
    python scripts/benchmark.py --only blas --out reports/benchmark_blas.json
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RATE = 48_000


def noisy_speech(seconds: float) -> np.ndarray:
    """Held-out speech (ARCTIC axb) + held-out noise (running tap) at 5 dB, looped."""
    from aural.audio_io import load_audio
    from aural.data.mixing import mix_at_snr, random_excerpt
    from aural.data.sources import shared_data_dir

    root = shared_data_dir()
    speech = np.concatenate([load_audio(p, sample_rate=RATE, mono=True)[0][0] for p in
                             sorted((root / "speech/cmu_arctic").glob("*axb*.wav"))])
    noise = load_audio(root / "noise/running_tap.wav", sample_rate=RATE, mono=True)[0][0]
    speech = np.tile(speech, int(np.ceil(seconds * RATE / len(speech))))[: int(seconds * RATE)]
    mix = mix_at_snr(speech, random_excerpt(noise, len(speech), np.random.default_rng(0)), 5.0)
    return (0.5 * mix / np.max(np.abs(mix))).astype(np.float32)


def warm_up(call: Callable[[], object]) -> None:
    """Run ``call`` past the stages' eager first calls and their graph tracing, so that what
    is timed next is the steady state."""
    from aural.stages.spectral import EAGER_CALLS

    for _ in range(EAGER_CALLS + 1):
        call()


def speed(seconds: float) -> dict[str, float]:
    """Real-time factor of each system on ``seconds`` of 48 kHz mono audio, after start-up
    (the memo measures a start from the shell)."""
    from aural.baselines import BASELINES
    from aural.stages.noise_reduction import NoiseReduction

    audio = noisy_speech(seconds)
    stage = NoiseReduction.load()
    warm_up(lambda: stage.process(audio[np.newaxis, : RATE], RATE))
    systems = {"input (unprocessed)": lambda x: x, **{k: (lambda f: lambda x: f(x, RATE))(f)
                                                       for k, f in BASELINES.items()},
               "AURAL noise_reduction": lambda x: stage.process(x[np.newaxis], RATE)[0]}
    out = {}
    for name, function in systems.items():
        started = time.perf_counter()
        function(audio)
        out[name] = (time.perf_counter() - started) / seconds
        print(f"{name:28s} RTF {out[name]:.4f}", flush=True)
    return out


def _long_file(path: Path, hours: float) -> None:
    """``hours`` of held-out noisy speech at 48 kHz, 16-bit, written a minute at a time."""
    import soundfile as sf

    minute = noisy_speech(60.0)
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, subtype="PCM_16") as out:
        for _ in range(max(int(round(hours * 60)), 1)):
            out.write(minute)


def streaming_memory(hours: float) -> dict[str, float]:
    """Peak resident memory of `aural apply noise_reduction` on a file of ``hours`` hours."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "long.wav"
        _long_file(source, hours)
        duration = sf.info(str(source)).duration
        wall, peak, _ = _peak_run(["apply", "noise_reduction", str(source),
                                   str(Path(folder) / "clean.wav"), "--no-progress"])
    return {"audio_hours": duration / 3600, "wall_seconds": wall, "rtf_end_to_end": wall / duration,
            "peak_memory_mb": peak}


def _peak_run(args: list[str]) -> tuple[float, float, str]:
    """Run the aural CLI in a child process; (wall seconds, peak RSS in MB, stdout)."""
    code = ("import resource, sys; from aural.cli import main\n"
            "status = 0\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as stop:\n    status = stop.code or 0\n"
            "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
            "sys.exit(status)")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - started
    if result.returncode or "MAXRSS_KB" not in result.stdout:
        raise SystemExit(result.stderr[-2000:])
    return wall, int(result.stdout.split("MAXRSS_KB")[-1].split()[0]) / 1024, result.stdout


def stage_costs(minutes: tuple[float, ...] = (1.0, 10.0)) -> dict[str, dict[str, float]]:
    """`aural apply STAGE` on held-out noisy speech of each length, for every shipped stage:
    wall time, real-time factor and peak memory (the same peak for both lengths = flat)."""
    from aural.modelfile import default_model_path
    from aural.stages import STAGES, stage_class

    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for length in minutes:
            source = Path(folder) / f"speech_{length:g}min.wav"
            _long_file(source, length / 60)
            for stage in STAGES:
                if not default_model_path(stage).exists():
                    continue
                stems = len(stage_class(stage).outputs) > 1  # written into a folder
                target = Path(folder) / f"{stage}_{length:g}{'' if stems else '.wav'}"
                wall, peak, _ = _peak_run(["apply", stage, str(source), str(target),
                                           "--no-progress"])
                out[f"{stage}, {length:g} min"] = {"wall_seconds": wall,
                                                   "rtf_end_to_end": wall / (length * 60),
                                                   "peak_memory_mb": peak}
                print(f"{stage} {length:g} min: {wall:.1f} s, {peak:.0f} MB", flush=True)
    return out


def regenerate_speed(seconds: float) -> dict[str, float]:
    """Real-time factor of the whole chain and of the chains a user could use instead."""
    from aural.baselines.chains import available_chains
    from aural.regenerate import RegenerateSettings, Regenerator

    audio = noisy_speech(seconds)[np.newaxis]
    regenerator = Regenerator(RegenerateSettings(content="speech"))
    warm_up(lambda: regenerator.process(audio[:, :RATE], RATE))
    chain = [stage.name for stage in regenerator.plan(audio, RATE).stages]  # what runs
    systems = {f"AURAL regenerate ({', '.join(chain)})": lambda x: regenerator.process(x, RATE)}
    systems.update({name: (lambda c: lambda x: c(x, RATE, -16.0, -1.0))(chain)
                    for name, chain in available_chains().items()})
    out = {}
    for name, function in systems.items():
        started = time.perf_counter()
        function(audio)
        out[name] = (time.perf_counter() - started) / seconds
        print(f"{name:60s} RTF {out[name]:.4f}", flush=True)
    return out


def memo_end_to_end() -> dict[str, float]:
    """`aural regenerate` on a 10-second memo: wall time from the shell, start-up included."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as folder:
        memo = Path(folder) / "memo.wav"
        sf.write(memo, noisy_speech(10.0), RATE)
        wall, peak, _ = _peak_run(["regenerate", str(memo), str(Path(folder) / "out.wav"),
                                   "--no-progress"])
    return {"audio_seconds": 10.0, "wall_seconds": wall, "peak_memory_mb": peak}


def regenerate_memory(hours: float) -> dict[str, float]:
    """Peak resident memory and speed of `aural regenerate` on a file of ``hours`` hours."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "long.wav"
        _long_file(source, hours)
        duration = sf.info(str(source)).duration
        wall, peak, _ = _peak_run(["regenerate", str(source), str(Path(folder) / "out.wav"),
                                   "--no-progress", "--content", "speech"])
    return {"audio_hours": duration / 3600, "wall_seconds": wall,
            "rtf_end_to_end": wall / duration, "peak_memory_mb": peak}


def tools_memory(durations_hours: list[float]) -> dict[str, dict[str, float]]:
    """Peak memory of `aural preprocess` and `aural convert` on 48 kHz stereo files."""
    import soundfile as sf

    out: dict[str, dict[str, float]] = {}
    for hours in durations_hours:
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "raw"
            raw.mkdir()
            source = raw / "long.wav"
            minute = noisy_speech(60.0)
            stereo = np.stack([minute, 0.7 * minute[::-1]]).T
            with sf.SoundFile(source, "w", samplerate=RATE, channels=2, subtype="PCM_24") as f:
                for _ in range(max(int(round(hours * 60)), 1)):
                    f.write(stereo)
            label = f"{hours:g} h" if hours >= 1 else f"{hours * 60:g} min"
            for tool, args in (("preprocess", ["preprocess", str(raw), "--out-root",
                                               str(Path(folder) / "data"), "--no-progress"]),
                               ("convert", ["convert", str(source), str(Path(folder) / "c.flac"),
                                            "--sample-rate", "44100", "--bit-depth", "16",
                                            "--no-progress"])):
                wall, peak, _ = _peak_run(args)
                out[f"{tool} {label}"] = {"wall_seconds": wall, "peak_memory_mb": peak}
                print(tool, label, f"{wall:.0f} s", f"{peak:.0f} MB", flush=True)
    return out


def data_tools() -> dict[str, dict[str, float]]:
    """Times real time of `aural preprocess` (all shared speech) and `aural simulate`
    (the train split of ../shared/data, every damage on)."""
    from aural.data.preprocess import preprocess
    from aural.data.simulator import simulate_dataset
    from aural.data.sources import shared_data_dir

    with tempfile.TemporaryDirectory(dir=REPO) as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        (raw / "speech").symlink_to(shared_data_dir() / "speech")
        report = preprocess(raw, Path(folder) / "data", progress=False)
        summary = simulate_dataset(Path(folder) / "simulated", split="train", include_external=False,
                                   progress=False)
    return {"preprocess": {"files": len(report.processed), "audio_seconds": report.audio_seconds,
                           "wall_seconds": report.wall_seconds,
                           "times_real_time": report.audio_seconds / report.wall_seconds},
            "simulate": {"pairs": summary.pairs, "audio_seconds": summary.seconds,
                         "wall_seconds": summary.wall_seconds, "times_real_time": summary.speed}}


def _folder_of_minutes(folder: Path, files: int) -> None:
    """``files`` one-minute recordings of held-out noisy speech, each a different minute."""
    import soundfile as sf

    audio = noisy_speech(60.0 * files)
    for index in range(files):
        sf.write(folder / f"memo{index:02d}.wav", audio[index * 60 * RATE:(index + 1) * 60 * RATE],
                 RATE, subtype="PCM_16")


def cluster_speed(files: int) -> dict:
    """`aural regenerate IN OUT` on ``files`` one-minute files in plain folder mode and with
    ``--cluster local`` (Ray, every core): wall times from the shell, whether the outputs are
    identical, and where a worker's time goes (from the cluster run's report)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in"
        source.mkdir()
        _folder_of_minutes(source, files)
        walls = {}
        for name, extra in (("plain", []), ("cluster", ["--cluster", "local"])):
            walls[name], _, _ = _peak_run(["regenerate", str(source), str(Path(folder) / name),
                                           "--no-progress", "--report",
                                           str(Path(folder) / f"{name}.json"), *extra])
            print(name, f"{walls[name]:.1f} s", flush=True)
        names = sorted(p.name for p in source.iterdir())
        identical = all(filecmp.cmp(Path(folder) / "plain" / n, Path(folder) / "cluster" / n,
                                    shallow=False) for n in names)
        reports = json.loads((Path(folder) / "cluster.json").read_text())["files"]
    audio = sum(r["duration_seconds"] for r in reports)
    busy = sum(r["total_seconds"] for r in reports)
    return {"files": files, "audio_seconds": audio, "cpus": os.cpu_count(),
            "wall_seconds_plain": walls["plain"], "wall_seconds_cluster": walls["cluster"],
            "identical_outputs": identical, "worker_start_seconds": worker_start_seconds(),
            "worker_busy_seconds": busy,
            "chain_seconds": sum(r["chain_seconds"] for r in reports),
            "master_seconds": busy - sum(r["chain_seconds"] for r in reports)}


def worker_start_seconds() -> float:
    """What a fresh worker process spends before its first file: TensorFlow and the models."""
    code = ("import time; t = time.perf_counter()\n"
            "from aural.commands._options import quiet_tensorflow; quiet_tensorflow()\n"
            "from aural.regenerate import Regenerator; Regenerator()\n"
            "print(time.perf_counter() - t)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return float(result.stdout.split()[-1])


def blas_contention(calls: int = 50) -> dict[str, float]:
    """Milliseconds per band pooling (the matmul behind every stage's features: a 64-frame
    48 kHz spectrum onto its bands) with the cores idle, then with every core busy, NumPy's
    BLAS on its default threads and on one (what training uses beside TensorFlow)."""
    from threadpoolctl import threadpool_limits

    from aural.dsp.bands import BandLayout

    layout = BandLayout(RATE, 1536)
    rng = np.random.default_rng(0)
    spectrum = (rng.standard_normal((64, 769)) + 1j * rng.standard_normal((64, 769))
                ).astype(np.complex64)

    def milliseconds() -> float:
        layout.band_power(spectrum)
        started = time.perf_counter()
        for _ in range(calls):
            layout.band_power(spectrum)
        return 1000 * (time.perf_counter() - started) / calls

    out = {"idle_default_threads_ms": milliseconds()}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.5)
        out["busy_default_threads_ms"] = milliseconds()
        with threadpool_limits(1, "blas"):
            out["busy_one_blas_thread_ms"] = milliseconds()
    finally:
        for process in busy:
            process.kill()
            process.wait()
    for name, value in out.items():
        print(f"band pooling, {name}: {value:.2f}", flush=True)
    return out


PARTS = ("speed", "regenerate", "memo", "memory", "stages", "data_tools", "tools_memory",
         "cluster", "blas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the speed tests")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the memory test files")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run: {', '.join(PARTS)}")
    parser.add_argument("--files", type=int, default=20,
                        help="one-minute files in the cluster comparison")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "benchmark.json")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(REPO))
    from aural.commands._options import quiet_tensorflow

    quiet_tensorflow()
    report: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                "python": platform.python_version()},
                    "speed_audio_seconds": args.seconds}
    if "speed" in parts:
        report["speed_rtf"] = speed(args.seconds)
    if "regenerate" in parts:
        report["regenerate_rtf"] = regenerate_speed(args.seconds)
    if "memo" in parts:
        report["memo"] = memo_end_to_end()
        print(json.dumps(report["memo"]), flush=True)
    if "stages" in parts:
        report["stages"] = stage_costs()
    if "data_tools" in parts:
        report["data_tools"] = data_tools()
        print(json.dumps(report["data_tools"]), flush=True)
    if "tools_memory" in parts:
        report["tools_memory"] = tools_memory([1 / 60, 1.0, 3.0])
    if "memory" in parts:
        report["streaming"] = streaming_memory(args.hours)
        print(json.dumps(report["streaming"]), flush=True)
        report["regenerate_streaming"] = regenerate_memory(args.hours)
        print(json.dumps(report["regenerate_streaming"]), flush=True)
    if "blas" in parts:
        report["blas_contention"] = blas_contention()
    if "cluster" in parts:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            print("cluster: skipped, Ray is not installed (pip install 'ray[default]')")
        else:
            report["cluster"] = cluster_speed(args.files)
            print(json.dumps(report["cluster"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report, args.seconds))
    print(markdown(report, args.seconds))


def markdown(report: dict, seconds: float) -> str:
    """The benchmark as Markdown tables."""
    lines = ["# Benchmark (`python scripts/benchmark.py`)", "",
             f"{report['machine']['cpus']} CPU cores, {report['machine']['platform']}", ""]
    for key, title in (("speed_rtf", "noise_reduction beside the classical baselines"),
                       ("regenerate_rtf", "the whole regenerate chain beside other chains")):
        if key in report:
            lines += [f"Real-time factor, {title}, on {seconds:g} s of 48 kHz mono speech + "
                      "noise (lower is faster; 0.05 = 20x faster than real time):", "",
                      "| system | RTF |", "|---|---|"]
            lines += [f"| {name} | {value:.4f} |" for name, value in report[key].items()] + [""]
    if "memo" in report:
        m = report["memo"]
        lines += [f"`aural regenerate` on a 10 s memo, end to end from the shell (start-up and "
                  f"model loading included): {m['wall_seconds']:.1f} s wall, peak memory "
                  f"{m['peak_memory_mb']:.0f} MB.", ""]
    for key, command in (("streaming", "aural apply noise_reduction"),
                         ("regenerate_streaming", "aural regenerate")):
        if key in report:
            s = report[key]
            lines += [f"`{command}` on a {s['audio_hours']:.2f} h file, end to end: "
                      f"{s['wall_seconds']:.0f} s wall, RTF {s['rtf_end_to_end']:.4f}, peak memory "
                      f"{s['peak_memory_mb']:.0f} MB.", ""]
    if "stages" in report:
        lines += ["`aural apply STAGE` on held-out noisy speech (48 kHz mono), end to end from "
                  "the shell (start-up and model loading included; the peak is the child's "
                  "ru_maxrss):", "", "| stage, file | wall | RTF | peak memory |",
                  "|---|---|---|---|"]
        lines += [f"| {name} | {v['wall_seconds']:.1f} s | {v['rtf_end_to_end']:.3f} | "
                  f"{v['peak_memory_mb']:.0f} MB |" for name, v in report["stages"].items()] + [""]
    if "tools_memory" in report:
        lines += ["Peak memory on 48 kHz stereo 24-bit WAV files (preprocess: decode, loudness-"
                  "normalise, write audio and features; convert: to 44.1 kHz 16-bit FLAC):", "",
                  "| run | wall | peak memory |", "|---|---|---|"]
        lines += [f"| aural {name} | {v['wall_seconds']:.0f} s | {v['peak_memory_mb']:.0f} MB |"
                  for name, v in report["tools_memory"].items()] + [""]
    if "data_tools" in report:
        tools = report["data_tools"]
        lines += ["| data tool | audio | wall | times real time |", "|---|---|---|---|"]
        lines += [f"| aural {name} | {v['audio_seconds']:.0f} s | {v['wall_seconds']:.1f} s | "
                  f"{v['times_real_time']:.0f}x |" for name, v in tools.items()] + [""]
    if "blas_contention" in report:
        b = report["blas_contention"]
        lines += ["Band pooling (64 frames x 769 bins onto the bands, NumPy matmul), ms per call: "
                  f"cores idle {b['idle_default_threads_ms']:.2f}; every core busy, BLAS on its "
                  f"default threads {b['busy_default_threads_ms']:.2f}, on one thread "
                  f"{b['busy_one_blas_thread_ms']:.2f} (why training limits BLAS to one thread).",
                  ""]
    if "cluster" in report:
        lines += cluster_markdown(report["cluster"])
    return "\n".join(lines)


#: The archive of the README's estimate: hours of audio to regenerate in one day.
ARCHIVE_HOURS = 10_000


def cores_for_archive(times_real_time_per_core: float) -> float:
    """Worker cores that regenerate :data:`ARCHIVE_HOURS` of audio in 24 hours."""
    return ARCHIVE_HOURS * 3600 / (times_real_time_per_core * 86400)


def cluster_markdown(c: dict) -> list[str]:
    """The cluster comparison and the paper estimate it supports."""
    per_core = c["audio_seconds"] / c["wall_seconds_cluster"] / c["cpus"]
    busy_per_core = c["audio_seconds"] / c["worker_busy_seconds"]
    minutes = c["audio_seconds"] / 60
    return [f"`aural regenerate IN OUT` on {c['files']} one-minute files ({minutes:.0f} min of "
            "48 kHz speech), end to end from the shell:", "",
            "| mode | wall | audio per wall second |", "|---|---|---|",
            f"| plain folder mode | {c['wall_seconds_plain']:.1f} s | "
            f"{c['audio_seconds'] / c['wall_seconds_plain']:.1f} s |",
            f"| `--cluster local` ({c['cpus']} Ray workers) | {c['wall_seconds_cluster']:.1f} s | "
            f"{c['audio_seconds'] / c['wall_seconds_cluster']:.1f} s |", "",
            f"Outputs identical (byte for byte): {'yes' if c['identical_outputs'] else 'no'}. "
            f"A fresh worker process takes {c['worker_start_seconds']:.1f} s (TensorFlow and "
            f"the models) before its first file. Of the workers' time on files, the chain took "
            f"{c['chain_seconds'] / c['worker_busy_seconds']:.0%} and the two-pass master "
            f"{c['master_seconds'] / c['worker_busy_seconds']:.0%}.", "",
            f"Throughput per core: {busy_per_core:.1f}x real time while the {c['cpus']} workers "
            f"ran side by side ({per_core:.1f}x over the whole run, start-up included). "
            f"{ARCHIVE_HOURS:,} hours in a day: {math.ceil(cores_for_archive(busy_per_core))} "
            f"worker cores at {busy_per_core:.1f}x ({math.ceil(cores_for_archive(per_core))} at "
            f"{per_core:.1f}x).", ""]


if __name__ == "__main__":
    main()

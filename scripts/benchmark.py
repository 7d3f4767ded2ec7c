"""Speed and memory benchmark, in one run on this machine: AURAL's noise_reduction beside the
unprocessed input and the classical baselines, a one-hour file streamed through
`aural apply`, and the data tools (preprocess, simulate). Writes reports/benchmark.json and .md.

    python scripts/benchmark.py                 # 60 s speed test + a one-hour streaming run
    python scripts/benchmark.py --hours 0.1     # shorter memory run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
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


def speed(seconds: float) -> dict[str, float]:
    """Real-time factor of each system on ``seconds`` of 48 kHz mono audio."""
    from aural.baselines import BASELINES
    from aural.stages.noise_reduction import NoiseReduction

    audio = noisy_speech(seconds)
    stage = NoiseReduction.load()
    stage.process(audio[np.newaxis, : RATE], RATE)  # warm-up (graph tracing)
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


def streaming_memory(hours: float) -> dict[str, float]:
    """Peak resident memory of `aural apply noise_reduction` on a file of ``hours`` hours."""
    import soundfile as sf

    with tempfile.TemporaryDirectory(dir=REPO) as folder:
        source = Path(folder) / "long.wav"
        minute = noisy_speech(60.0)
        with sf.SoundFile(source, "w", samplerate=RATE, channels=1, subtype="PCM_16") as out:
            for _ in range(int(round(hours * 60))):
                out.write(minute)
        duration = sf.info(str(source)).duration
        code = ("import resource, sys; from aural.cli import main\n"
                "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
                "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", code, "apply", "noise_reduction",
                                 str(source), str(Path(folder) / "clean.wav"), "--no-progress"],
                                capture_output=True, text=True,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        wall = time.perf_counter() - started
        if result.returncode:
            raise SystemExit(result.stderr[-2000:])
        peak_kb = int(result.stdout.split("MAXRSS_KB")[-1].split()[0])
    return {"audio_hours": duration / 3600, "wall_seconds": wall, "rtf_end_to_end": wall / duration,
            "peak_memory_mb": peak_kb / 1024}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the speed test")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the memory test file")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmark.json")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "speed_rtf": speed(args.seconds), "speed_audio_seconds": args.seconds}
    report["data_tools"] = data_tools()
    print(json.dumps(report["data_tools"]), flush=True)
    report["streaming"] = streaming_memory(args.hours)
    print(json.dumps(report["streaming"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Benchmark (`python scripts/benchmark.py`)", "",
             f"{report['machine']['cpus']} CPU cores, {report['machine']['platform']}", "",
             f"Real-time factor on {args.seconds:g} s of 48 kHz mono speech + noise "
             "(lower is faster; 0.05 = 20x faster than real time):", "",
             "| system | RTF |", "|---|---|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in report["speed_rtf"].items()]
    s = report["streaming"]
    lines += ["", f"`aural apply noise_reduction` on a {s['audio_hours']:.2f} h file, end to end "
              f"(decode, process, encode): {s['wall_seconds']:.0f} s wall, RTF "
              f"{s['rtf_end_to_end']:.4f}, peak memory {s['peak_memory_mb']:.0f} MB.", ""]
    tools = report["data_tools"]
    lines += ["| data tool | audio | wall | times real time |", "|---|---|---|---|"]
    lines += [f"| aural {name} | {v['audio_seconds']:.0f} s | {v['wall_seconds']:.1f} s | "
              f"{v['times_real_time']:.0f}x |" for name, v in tools.items()]
    lines += [""]
    args.out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

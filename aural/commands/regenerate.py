"""``aural regenerate INPUT [OUTPUT]``: the whole chain, then mix-and-master."""

from __future__ import annotations

from pathlib import Path

import click

from aural.commands._options import (allow_truncated_option, bit_depth_option, overwrite_option,
                                     progress_option, quiet_tensorflow, sample_rate_option,
                                     show_progress)


@click.command(name="regenerate")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="[OUTPUT]", required=False, type=click.Path(path_type=Path))
@click.option("--stages", default=None, metavar="LIST",
              help="Comma-separated stages to run, in this order, or 'none' (mastering only) "
                   "[default: every stage with a shipped model, in the measured best order, "
                   "leaving noise_reduction out of music and of already clean takes, and "
                   "frequency_generation out unless --strength asks for it; stages named "
                   "here always run].")
@click.option("--strength", "strengths", multiple=True, metavar="STAGE=VALUE",
              help="Dry/wet of one stage, 0 to 1 (repeatable), e.g. noise_reduction=0.7; "
                   "frequency_generation=1 switches that stage on (off by default).")
@click.option("--model", "models", multiple=True, metavar="STAGE=PATH",
              help="Use this .h5 for STAGE instead of the shipped one (repeatable), e.g. a "
                   "model from `aural train STAGE --output PATH`; it also switches on a stage "
                   "that is off by default.")
@click.option("--content", type=click.Choice(["auto", "speech", "music"]), default="auto",
              show_default=True,
              help="What the recording is. Music keeps its accompaniment (noise_reduction runs "
                   "only on a separated voice) and is mastered louder; auto decides from the "
                   "audio and says what it decided.")
@click.option("--loudness", default=None, metavar="LUFS|PRESET",
              help="Integrated loudness target: a number (LUFS) or podcast (-16), streaming "
                   "(-14), broadcast (-23) [default: -16 for speech, -14 for music].")
@click.option("--true-peak", type=click.FloatRange(-9.0, 0.0), default=-1.0, show_default=True,
              help="Ceiling for the true peak (dBTP, measured 4x oversampled).")
@click.option("--reference", type=click.Path(path_type=Path), default=None,
              help="Match tone (EQ toward its long-term spectrum) to this recording.")
@click.option("--background-db", default=None, metavar="DB|off",
              help="Level of the separated background under the voice, in dB, or 'off' "
                   "[default: -12 for speech, 0 for music]. Used when source_separation runs.")
@click.option("--no-eq", is_flag=True, help="Skip the corrective EQ.")
@sample_rate_option("48000", help_text="Output sample rate in Hz (8000-192000), or 'input' for "
                                      "the input's rate.")
@bit_depth_option()
@click.option("--stems", "stems_dir", type=click.Path(path_type=Path), default=None,
              help="When separation runs, also write DIR/NAME/voice.wav and background.wav.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write a JSON report: stages and timing, loudness and true peak before and "
                   "after, what auto decided.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Regenerate a folder on a Ray cluster, a file per worker at a time: "
                   "ray://HOST:PORT (Ray Client) or HOST:PORT (from a node of the cluster), "
                   "auto (inside a Ray job) or local (Ray on this machine, every core). "
                   "Finished outputs are listed in OUTPUT/aural-manifest.jsonl as they "
                   "come, so a rerun skips them. Needs Ray (the 'cluster' extra).")
@overwrite_option()
@allow_truncated_option()
@progress_option()
def command(input_path: Path, output_path: Path | None, stages: str | None,
            strengths: tuple[str, ...], models: tuple[str, ...], content: str,
            loudness: str | None, true_peak: float,
            reference: Path | None, background_db: str | None, no_eq: bool,
            sample_rate: int | str,
            bit_depth: str, stems_dir: Path | None, report_path: Path | None,
            cluster: str | None, overwrite: bool, allow_truncated: bool,
            progress: bool | None) -> None:
    """Make INPUT sound like a studio recording: run the shipped stages (noise reduction,
    dynamics, bandwidth, separation, timbre) and master the result to a loudness target
    with a true-peak ceiling. Writes OUTPUT (.wav or .flac) [default: INPUT_regenerated.wav].

    INPUT may be a folder: every audio file in it (recursively) is regenerated into the
    OUTPUT folder with the same relative path; files that fail are listed and the rest go
    on; existing outputs are skipped unless --overwrite.

    \b
    Examples:
      aural regenerate memo.wav                         # -> memo_regenerated.wav
      aural regenerate memo.wav clean.wav --loudness podcast --report report.json
      aural regenerate song.mp3 song.wav --content music --stems stems/
      aural regenerate recordings/ regenerated/ --stages noise_reduction,frequency_expansion
      aural regenerate memo.wav out.wav --strength noise_reduction=0.6 --sample-rate input
      aural regenerate memo.wav out.wav --strength frequency_generation=1  # timbre stage on
      aural regenerate memo.wav out.wav --model noise_reduction=runs/my_nr.h5
      aural regenerate archive/ regenerated/ --cluster ray://head.example:10001
    """
    from aural.regenerate import parse_loudness, parse_models, parse_stages, parse_strengths

    # Everything about the command line and the paths is checked before TensorFlow loads.
    settings = _settings(stages=parse_stages(stages), strengths=parse_strengths(strengths),
                         content=content, loudness=parse_loudness(loudness) if loudness else None,
                         true_peak=true_peak, reference=reference, background_db=background_db,
                         eq=not no_eq, sample_rate=sample_rate, bit_depth=bit_depth,
                         stems_dir=stems_dir, models=parse_models(models))
    if cluster is not None:
        _check_cluster(cluster, input_path)
    jobs = _jobs(input_path, output_path, overwrite, bit_depth, allow_truncated)
    if cluster is not None:
        reports = _run_on_cluster(cluster, settings, jobs, output_path)
    else:
        show = show_progress(progress)
        quiet_tensorflow()
        from aural.regenerate import Regenerator

        regenerator = Regenerator(settings)
        for name, why in regenerator.unavailable:
            click.echo(f"skipping {name}: {why}", err=True)
        reports = _run_jobs(regenerator, jobs, show)
    if report_path is not None:
        from aural.modelfile import write_json_atomic

        write_json_atomic(report_path, reports[0] if len(reports) == 1 and not input_path.is_dir()
                          else {"files": reports})
    failed = [r for r in reports if r.get("error")]
    if input_path.is_dir():
        done = sum(1 for r in reports if r.get("output") and not r.get("error")
                   and not r.get("skipped"))
        skipped = sum(1 for r in reports if r.get("skipped"))
        click.echo(f"{done} regenerated, {skipped} skipped (already there), {len(failed)} failed")
    if failed:
        raise SystemExit(1)


def _settings(*, stages, strengths, content, loudness, true_peak, reference, background_db, eq,
              sample_rate, bit_depth, stems_dir, models):
    from aural.audio_io import audio_info
    from aural.errors import AuralError
    from aural.regenerate import RegenerateSettings

    if reference is not None:
        audio_info(reference)  # a clear error now, not after the chain ran
    background: float | None | str = "default"
    if background_db is not None:
        if background_db.lower() == "off":
            background = None
        else:
            try:
                background = float(background_db)
            except ValueError:
                raise AuralError(f"--background-db must be a number of dB or 'off', "
                                 f"got {background_db!r}") from None
    return RegenerateSettings(stages=stages, strengths=strengths, content=content,
                              loudness_lufs=loudness, true_peak_dbtp=true_peak,
                              reference=reference, background_db=background, eq=eq,
                              output_rate=sample_rate, bit_depth=bit_depth,
                              stems_dir=stems_dir, models=models)


def _jobs(input_path: Path, output_path: Path | None, overwrite: bool, bit_depth: str,
          allow_truncated: bool) -> list[tuple[Path, Path, bool]]:
    """(input, output, skip) for a file or every audio file of a folder."""
    from aural.audio_io import check_output_path
    from aural.commands._options import check_input_audio, check_new_output
    from aural.errors import AuralError
    from aural.regenerate import default_output, find_inputs, output_name

    if not input_path.is_dir():
        check_input_audio(input_path, allow_truncated=allow_truncated)
        output_path = output_path or default_output(input_path)
        check_output_path(output_path, bit_depth=bit_depth, protect=(input_path,))
        check_new_output(output_path, overwrite=overwrite)
        return [(input_path, output_path, False)]
    if output_path is None:
        raise AuralError("INPUT is a folder: give an OUTPUT folder too", path=input_path)
    if output_path.exists() and not output_path.is_dir():
        raise AuralError("INPUT is a folder, so OUTPUT must be a folder", path=output_path)
    inputs = find_inputs(input_path)
    if output_path.resolve().is_relative_to(input_path.resolve()):
        inputs = [p for p in inputs if not p.resolve().is_relative_to(output_path.resolve())]
    if not inputs:
        raise AuralError("no audio files (.wav, .flac, .ogg, .mp3) in this folder", path=input_path)
    jobs = []
    for path in inputs:
        target = output_name(path, input_path, output_path, ".wav")
        jobs.append((path, target, target.exists() and not overwrite))
    return jobs


def _run_jobs(regenerator, jobs: list[tuple[Path, Path, bool]], show: bool) -> list[dict]:
    from aural.errors import AuralError

    reports: list[dict] = []
    files = jobs
    bar = None
    if show and len(jobs) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="file", desc="files", position=0)
    for input_path, output_path, skip in files:
        if skip:
            reports.append({"input": str(input_path), "output": str(output_path), "skipped": True})
        else:
            output_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                report = regenerator.regenerate_file(input_path, output_path, progress=show)
                reports.append(report)
                click.echo(_summary(report))
            except AuralError as exc:
                if len(jobs) == 1:
                    raise
                reports.append({"input": str(input_path), "error": str(exc)})
                click.echo(f"error: {exc}", err=True)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return reports


def _check_cluster(address: str, input_path: Path) -> None:
    """Everything about ``--cluster`` that can fail before any work: the address, a folder
    to work on, and Ray being installed."""
    from aural.cluster import check_address, import_ray
    from aural.errors import AuralError

    check_address(address)
    if not input_path.is_dir():
        raise AuralError("--cluster regenerates a folder: give an INPUT folder and an OUTPUT "
                         "folder", path=input_path)
    import_ray()


def _run_on_cluster(address: str, settings, jobs: list[tuple[Path, Path, bool]],
                    output_root: Path) -> list[dict]:
    from aural.cluster.batch import ClusterRun

    run = ClusterRun(address, settings, jobs, output_root,
                     notice=lambda message: click.echo(message, err=True))
    reports: list[dict] = []
    for report in run.reports():
        reports.append(report)
        if report.get("error"):
            where = "" if report["input"] in report["error"] else f"{report['input']}: "
            click.echo(f"error: {where}{report['error']}", err=True)
        elif not report.get("skipped"):
            click.echo(f"{run.progress.line()} {_summary(report)}")
    return reports


def _summary(report: dict) -> str:
    m = report["mastering"]
    stages = ", ".join(report["stages"]) or "no stage"
    left_out = [f"{s['stage']} left out ({s['why']})" for s in report.get("skipped_stages", [])
                if s.get("for_this_file", True)]   # the others are said once, at the start
    stages = "; ".join([stages] + left_out)

    def level(value, unit):
        return "silence" if value is None else f"{value:.1f} {unit}"

    return (f"wrote {report['output']} ({report['duration_seconds']:.1f} s; {stages}; "
            f"{report['content_decision']}; loudness {level(m['loudness_before_lufs'], 'LUFS')} -> "
            f"{level(m['loudness_after_lufs'], 'LUFS')}, true peak "
            f"{level(m['true_peak_after_dbtp'], 'dBTP')}; {report['total_seconds']:.1f} s)")

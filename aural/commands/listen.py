"""``aural listen build|results``: blind A/B and MUSHRA listening tests."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="listen")
def command() -> None:
    """Blind listening tests as a static web page (A/B preference or MUSHRA).

    \b
    A test on the pipeline evaluation, in three commands:
      aural evaluate pipeline                        # writes reports/pipeline/audio/
      aural listen build listening/ --from-report reports/pipeline --kind mushra
      aural listen results answers-*.json --test listening/ --out listening/results
    Open listening/index.html in a browser (no server or network needed), or serve the
    folder with `python -m http.server` to run the test for others.
    """


@command.command(name="build")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--from-report", "report_dir", type=click.Path(path_type=Path), default=None,
              help="An evaluation folder (audio/<item>/<system>.wav, reference.wav).")
@click.option("--system", "systems", multiple=True, metavar="NAME=DIR",
              help="A system's outputs: a folder of files matched by name (repeatable).")
@click.option("--reference", type=click.Path(path_type=Path), default=None,
              help="Folder of reference recordings (needed for MUSHRA).")
@click.option("--input", "input_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of the unprocessed inputs (joins as system 'input').")
@click.option("--kind", type=click.Choice(["mushra", "ab"]), default="mushra", show_default=True)
@click.option("--items", type=click.IntRange(1), default=None, help="Use only the first N items.")
@click.option("--seed", type=int, default=None, help="Seed of the random order (reproducible).")
def build(out_dir: Path, report_dir: Path | None, systems: tuple[str, ...],
          reference: Path | None, input_dir: Path | None, kind: str, items: int | None,
          seed: int | None) -> None:
    """Write a self-contained test page into OUT_DIR (which must be new or empty)."""
    from aural.errors import AuralError
    from aural.listening.build import build_test, items_from_folders, items_from_report

    if report_dir is not None:
        chosen = items_from_report(report_dir)
    elif systems:
        folders = {}
        for entry in systems:
            name, sep, folder = entry.partition("=")
            if not sep or not name:
                raise AuralError(f"--system expects NAME=DIR, got {entry!r}")
            folders[name] = Path(folder)
        chosen = items_from_folders(folders, reference, input_dir)
    else:
        raise AuralError("give --from-report DIR or at least one --system NAME=DIR")
    page = build_test(chosen[:items] if items else chosen, out_dir, kind=kind, seed=seed)
    click.echo(f"wrote {page} ({kind}, {len(chosen[:items] if items else chosen)} items); "
               f"keep {out_dir / 'key.json'} away from listeners")


@command.command(name="results")
@click.argument("answers", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--test", "test_dir", type=click.Path(path_type=Path), required=True,
              help="The test folder (its key.json decodes the answers).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for results.md, results.json and results.png [default: print only].")
def results(answers: tuple[Path, ...], test_dir: Path, out: Path | None) -> None:
    """Summarise ANSWERS files (what the page saved) of the test in --test."""
    import dataclasses
    import json

    from aural.listening.results import markdown, plot, summarise

    summary = summarise(test_dir, list(answers))
    text = markdown(summary)
    click.echo(text, nl=False)
    if out is not None:
        from aural.atomic import atomic_file

        out.mkdir(parents=True, exist_ok=True)
        (out / "results.md").write_text(text)
        with atomic_file(out / "results.json") as temp:
            temp.write_text(json.dumps(dataclasses.asdict(summary), indent=1) + "\n")
        plot(summary, out / "results.png")
        click.echo(f"wrote {out / 'results.md'}, results.json and results.png")

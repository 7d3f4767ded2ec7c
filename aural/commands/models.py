"""``aural models``: list the shipped models and the metrics their sidecars record."""

from __future__ import annotations

import json

import click


@click.command(name="models")
@click.option("--json", "as_json", is_flag=True, help="Print the sidecars as JSON.")
def command(as_json: bool) -> None:
    """List every model under models/ with its size, training time and measured metrics."""
    from aural.modelfile import MODELS_DIR, read_sidecar

    found = sorted(MODELS_DIR.glob("*/*.h5"))
    if not found:
        click.echo(f"no models in {MODELS_DIR}")
        return
    sidecars = {str(path.relative_to(MODELS_DIR.parent)): read_sidecar(path) for path in found}
    if as_json:
        click.echo(json.dumps(sidecars, indent=2))
        return
    for name, sidecar in sidecars.items():
        training = sidecar.get("training", {})
        click.echo(f"{name}: stage {sidecar.get('stage')}, {sidecar.get('sample_rate')} Hz, "
                   f"{sidecar.get('parameters', 0) / 1e6:.2f} M parameters, trained "
                   f"{training.get('wall_minutes', '?')} min / {training.get('steps', '?')} steps")
        metrics = sidecar.get("metrics", {})
        if sidecar.get("for_stage"):
            # A pre-trained network (`aural pretrain`): a starting point, not a stage model.
            click.echo(f"    pre-trained for {sidecar['for_stage']}: start a training from it "
                       f"with `aural train {sidecar['for_stage']} --init-from {name}`")
            continue
        if not metrics:
            click.echo("    not evaluated yet: run `aural evaluate " f"{sidecar.get('stage')}`")
            continue
        aural, inputs = metrics.get("aural", {}), metrics.get("input", {})
        for metric, value in aural.items():
            before = inputs.get(metric)
            extra = f" (input {before:.3f})" if isinstance(before, float) else ""
            click.echo(f"    {metric:8s} {value:.3f}{extra}")

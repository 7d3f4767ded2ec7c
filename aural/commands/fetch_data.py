"""``aural fetch-data``: bring in extra real recordings from Debian packages, with provenance.

The packages are fetched by name with ``apt-get download`` (never from anywhere else),
unpacked with ``dpkg -x``, and only their recordings, copyright files and a
``PROVENANCE.md`` are kept under the destination (``data/external`` by default, which
git ignores). :func:`aural.data.sources.catalogue` picks the recordings up from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from aural.errors import AuralError

PROVENANCE_JSON = "provenance.json"
PROVENANCE_MD = "PROVENANCE.md"
LICENCES = "licences"


@dataclass(frozen=True)
class Package:
    """A Debian package with real recordings, and where its files go."""

    name: str
    folder: str             # under the destination
    source_glob: str        # files to copy, relative to the unpacked package root
    keep_levels: int        # trailing path parts kept below ``folder`` (1 = file name only)
    licence: str
    description: str
    extra_docs: tuple[str, ...] = ()   # more provenance files to keep (relative to the root)


PACKAGES = (
    Package("klettres-data", "klettres", "usr/share/klettres/*/*/*.ogg", 3,
            "GPL-2+ (Debian copyright file, 'Files: *')",
            "native-speaker recordings of letters and syllables in 16 languages (KDE KLettres)"),
    Package("sonic-pi-samples", "sonic_pi", "usr/share/sonic-pi/samples/*.flac", 1,
            "CC0-1.0 (usr/share/sonic-pi/samples/README.md: all samples from freesound.org, "
            "placed in the public domain via CC0)",
            "Sonic Pi's sample collection: ambient sounds, drums, guitar, percussion, vinyl hiss",
            ("usr/share/sonic-pi/samples/README.md",)),
    Package("fretsonfire-songs-muldjord", "fretsonfire", "usr/share/games/fretsonfire/data/songs/*/*/*.ogg",
            2, "CC BY-SA 3.0 (Debian copyright file; song readme.txt)",
            "four metal songs by Muldjord: backing track and guitar stem per song"),
    Package("fretsonfire-songs-sectoid", "fretsonfire", "usr/share/games/fretsonfire/data/songs/*/*/*.ogg",
            2, "GPL (Debian copyright file)",
            "four rock songs by Sectoid: backing track and guitar stem per song"),
)
#: klettres ships letters (alpha) and syllables (syllab) per language; anything else is skipped.
KLETTRES_KINDS = ("alpha", "syllab")


def _wanted(package: Package, source: Path) -> bool:
    return package.name != "klettres-data" or source.parent.name in KLETTRES_KINDS


def _load_provenance(dest: Path) -> dict:
    try:
        data = json.loads((dest / PROVENANCE_JSON).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _present(package: Package, dest: Path, provenance: dict) -> bool:
    """Fetched before and every file it recorded is still there."""
    record = provenance.get(package.name)
    if not isinstance(record, dict) or not record.get("files"):
        return False
    return all((dest / rel).is_file() for rel in record["files"])


def _run(args: list[str], cwd: Path, what: str) -> str:
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=1800)
    except OSError as exc:
        raise AuralError(f"{what} could not start ({exc.strerror or exc})") from None
    except subprocess.TimeoutExpired:
        raise AuralError(f"{what} took more than 30 minutes; gave up") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + "\n" + done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("E:")] or lines[-1:] or ["no message"]
        raise AuralError(f"{what} failed (exit {done.returncode}): {errors[0]}")
    return done.stdout


def _download(names: list[str], folder: Path) -> None:
    if shutil.which("apt-get") is None:
        raise AuralError("apt-get not found: fetch-data brings recordings in from Debian "
                         "packages and needs a Debian or Ubuntu system with apt")
    args = ["apt-get", "download"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # As root apt drops to the _apt user, which cannot write a private temp folder.
        args += ["-o", "APT::Sandbox::User=root"]
    _run(args + names, folder, f"apt-get download {' '.join(names)}")


def _find_deb(folder: Path, name: str) -> Path:
    debs = sorted(folder.glob(f"{name}_*.deb"))
    if not debs:
        raise AuralError(f"no .deb file for {name} in {folder}")
    return debs[-1]


def _install(package: Package, deb: Path, dest: Path, work: Path) -> dict:
    """Unpack ``deb`` and copy its recordings and licence files into ``dest``; return its record."""
    for tool in ("dpkg", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise AuralError(f"{tool} not found: needed to unpack {deb.name}")
    fields = {}
    for key in ("Package", "Version", "Source", "Homepage"):
        fields[key] = _run(["dpkg-deb", "-f", str(deb), key], work,
                           f"dpkg-deb -f {deb.name}").strip()
    if fields["Package"] != package.name:
        raise AuralError(f"{deb.name} holds package {fields['Package']!r}, "
                         f"expected {package.name!r}")
    root = work / package.name
    root.mkdir()
    _run(["dpkg", "-x", str(deb), str(root)], work, f"dpkg -x {deb.name}")

    sources = [p for p in sorted(root.glob(package.source_glob)) if _wanted(package, p)]
    if not sources:
        raise AuralError(f"{deb.name} has no files matching {package.source_glob}")
    copied = []
    for source in sources:
        rel = Path(package.folder, *source.parts[-package.keep_levels:])
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(rel.as_posix())

    licence_files = []
    docs = [(root / "usr/share/doc" / package.name / "copyright", f"{package.name}.copyright")]
    docs += [(root / extra, f"{package.name}.{Path(extra).name}") for extra in package.extra_docs]
    for source, name in docs:
        if source.is_file():
            target = dest / LICENCES / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            licence_files.append(target.relative_to(dest).as_posix())
    if not licence_files:
        raise AuralError(f"{deb.name} has no copyright file; refusing to keep recordings "
                         "without their licence")
    return {
        "package": package.name,
        "version": fields["Version"],
        "source_package": fields["Source"] or package.name,
        "homepage": fields["Homepage"],
        "deb": deb.name,
        "licence": package.licence,
        "description": package.description,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "folder": package.folder,
        "licence_files": licence_files,
        "files": copied,
    }


def _write_text(path: Path, text: str) -> None:
    from aural.atomic import atomic_file

    with atomic_file(path) as temp:
        temp.write_text(text)


def _write_provenance(dest: Path, provenance: dict) -> None:
    _write_text(dest / PROVENANCE_JSON, json.dumps(provenance, indent=2) + "\n")
    lines = ["# Provenance of the recordings in this folder", "",
             "Written by `aural fetch-data`. Each package was downloaded by name from the "
             "Debian archive with `apt-get download` and unpacked with `dpkg -x`; only the "
             "recordings and the licence files were kept. Do not commit these files.", "",
             "| package | version | licence | folder | files | fetched (UTC) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in sorted(provenance):
        r = provenance[name]
        lines.append(f"| `{name}` | {r['version']} | {r['licence']} | `{r['folder']}/` | "
                     f"{len(r['files'])} | {r['fetched_at']} |")
    lines.append("")
    for name in sorted(provenance):
        r = provenance[name]
        description = r["description"][:1].upper() + r["description"][1:]
        lines += [f"## {name} {r['version']}", "", f"{description}.",
                  f"Source package `{r['source_package']}`"
                  + (f", upstream {r['homepage']}" if r.get("homepage") else "") + ".",
                  "Licence files: " + ", ".join(f"`{f}`" for f in r["licence_files"]) + ".", ""]
    _write_text(dest / PROVENANCE_MD, "\n".join(lines))


def fetch(dest: Path, *, force: bool = False, deb_dir: Path | None = None,
          packages: tuple[Package, ...] = PACKAGES) -> tuple[list[dict], list[str]]:
    """Fetch ``packages`` into ``dest``; return the new records and the names skipped as present."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuralError(f"cannot create the destination ({exc.strerror or exc})",
                         path=dest) from None
    provenance = _load_provenance(dest)
    todo = [p for p in packages if force or not _present(p, dest, provenance)]
    skipped = [p.name for p in packages if p not in todo]
    if not todo:
        return [], skipped
    records = []
    with tempfile.TemporaryDirectory(prefix="aural-fetch-") as temp:
        work = Path(temp)
        os.chmod(work, 0o755)
        if deb_dir is None:
            _download([p.name for p in todo], work)
            deb_folder = work
        else:
            deb_folder = deb_dir
        for package in todo:
            record = _install(package, _find_deb(deb_folder, package.name), dest, work)
            provenance[package.name] = record
            # Recorded after each package, so an interruption loses at most one.
            _write_provenance(dest, provenance)
            records.append(record)
    return records, skipped


@click.command(name="fetch-data", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination folder (default: data/external in the checkout, "
                   "or $AURAL_EXTERNAL_DATA).")
@click.option("--force", is_flag=True, help="Fetch again even when the files are present.")
@click.option("--deb-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Use the .deb files already in this folder instead of "
                                 "downloading them (offline machines).")
def command(dest: Path | None, force: bool, deb_dir: Path | None) -> None:
    """Bring in real recordings from Debian packages (klettres-data, sonic-pi-samples).

    Downloads the packages by name with `apt-get download`, unpacks them with
    `dpkg -x`, and keeps only their recordings (klettres letters and syllables as
    klettres/LANG/alpha|syllab/*.ogg; Sonic Pi samples as sonic_pi/*.flac), their
    copyright files (licences/) and PROVENANCE.md. Packages already fetched are
    skipped unless --force.
    """
    from aural.data.sources import external_data_dir

    dest = dest if dest is not None else external_data_dir()
    records, skipped = fetch(dest, force=force, deb_dir=deb_dir)
    for name in skipped:
        click.echo(f"{name}: already in {dest} (use --force to fetch again)")
    for record in records:
        click.echo(f"{record['package']} {record['version']}: {len(record['files'])} files "
                   f"into {dest / record['folder']} ({record['licence'].split(' (')[0]})")
    if records:
        click.echo(f"provenance: {dest / PROVENANCE_MD}")

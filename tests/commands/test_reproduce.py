"""`python -m lit_gan reproduce` end to end: runs, evaluation, markdown, reuse, resume,
failures reported in the table, and the shipped tables' --quick versions on fixtures."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from lit_gan.__main__ import main as lit_gan_main
from tests.conftest import write_tiny_mnist
from tests.reproduce.fixtures import write_data_root, write_rgb_extractor

REPO = Path(__file__).resolve().parents[2]


def reproduce(*args) -> int:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["reproduce", *map(str, args)])
    return exc.value.code


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)  # tables name configs relative to the repository root
    monkeypatch.setenv("LIT_GAN_CACHE", str(tmp_path / "reference_cache"))


def write_table(tmp_path: Path, table: dict, name: str = "demo") -> Path:
    path = tmp_path / "tables" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(table, sort_keys=False))
    return path


def test_toy_rows_run_reuse_resume_and_failures_are_reported(tmp_path, capsys):
    empty = tmp_path / "no_mnist_here"
    empty.mkdir()
    table = write_table(tmp_path, {
        "title": "Demo", "source": "nobody 2026", "seeds": 1,
        "columns": [{"metric": "modes_covered", "label": "modes", "better": "higher", "digits": 1}],
        "evaluate": {"metrics": "modes"},
        "rows": [
            {"name": "ring", "config": "experiments/quickstart.yaml", "fit": ["--max_iterations", "15"],
             "paper": {"modes_covered": 8}},
            {"name": "broken", "config": "experiments/goodfellow2014/gan_mnist.yaml",
             "fit": [f"--data.init_args.root={empty}", "--data.init_args.download=false"]},
            {"name": "quoted", "paper": {"modes_covered": 1.0}},
        ]})
    runs, results = tmp_path / "runs", tmp_path / "results"
    assert reproduce(table, "--runs", runs, "--results", results) == 1  # a row failed
    err = capsys.readouterr().err
    text = (results / "tables_demo.md").read_text()
    ours = re.search(r"\| ring \| 8 \| (\d\.\d) \|", text)
    assert ours, text
    (run_dir,) = [p for p in (runs / "tables_demo").iterdir() if p.name.startswith("quickstart_")]
    modes = json.loads(next((run_dir / "eval").glob("evaluate_*.json")).read_text())["metrics"]
    assert float(ours.group(1)) == modes["modes_covered"] and "high_quality_fraction" in modes
    assert "| broken | – | – |" in text and "not produced: training gan_mnist_" in text
    assert "| quoted | 1 | – |" in text and "quoted from the paper" in text
    assert '"min_count": 20' in text and f"`{run_dir.name}`" in text and "rows not produced" in err

    # again: the finished run and its evaluation are reused, nothing is retrained
    stamp = (run_dir / "fit.log").stat().st_mtime
    assert reproduce(table, "--runs", runs, "--results", results, "--dry-run") == 0
    assert f"ring seed 0: finished {run_dir.name}" in capsys.readouterr().out
    assert reproduce(table, "--runs", runs, "--results", results) == 1
    assert "reusing" in capsys.readouterr().err and (run_dir / "fit.log").stat().st_mtime == stamp
    trained = json.loads((run_dir / "DONE").read_text())["train_seconds"] / 60
    assert f"1 finished run(s) reused (trained in {trained:.1f} min when they ran)" in (results / "tables_demo.md").read_text()

    # an interrupted run (checkpoint, no DONE marker) is resumed from its checkpoint
    (run_dir / "DONE").unlink()
    assert reproduce(table, "--runs", runs, "--results", results, "--dry-run") == 0
    assert f"ring seed 0: resume {run_dir.name}" in capsys.readouterr().out
    reproduce(table, "--runs", runs, "--results", results)
    assert "--ckpt_path" in (run_dir / "fit.log").read_text().split("$ ")[-1]
    assert (run_dir / "DONE").is_file()


def test_image_rows_floor_and_seeds_with_a_feature_module(tmp_path, capsys):
    mnist = write_tiny_mnist(tmp_path / "mnist", n_train=160, n_test=96)
    extractor = write_rgb_extractor(tmp_path / "rgb.pt")
    table = write_table(tmp_path, {
        "title": "Images", "columns": [{"metric": "fid", "label": "FID", "better": "lower"},
                                       {"metric": "kid", "label": "KID", "digits": 3}],
        "evaluate": {"metrics": "fid,kid", "num": 64, "num_real": 64, "kid_subsets": 5, "kid_subset_size": 32},
        "rows": [{"name": "dcgan", "config": "experiments/radford2015/dcgan_mnist.yaml",
                  "fit": ["--max_iterations", "2", "--data.init_args.val_size=32", "--data.init_args.batch_size=16",
                          "--model.init_args.generator_options={features: 8}",
                          "--model.init_args.discriminator_options={features: 8, norm: batch}"]},
                 {"name": "floor", "config": "experiments/radford2015/dcgan_mnist.yaml", "floor": "train",
                  "fit": ["--data.init_args.val_size", "32"]}]}, name="images")
    results = tmp_path / "results"
    code = reproduce(table, "--runs", tmp_path / "runs", "--results", results, "--seeds", 2,
                     "--data-root", mnist, "--feature-extractor", extractor)
    assert code == 0, capsys.readouterr().err
    text = (results / "tables_images.md").read_text()
    row = re.search(r"\| dcgan \| ([\d.]+) ± ([\d.]+) \(n=2\) \| ", text)
    floor = re.search(r"\| floor \| ([\d.]+) \| ", text)
    assert row and floor, text
    assert float(floor.group(1)) < float(row.group(1))  # real train images are closer to test than 2-step samples
    assert "rgb.pt` instead of the table's extractor" in text and '"n_fake": 64' in text
    assert text.count("seed0`") == 1 and text.count("seed1`") == 1


def test_user_errors_exit_2(tmp_path, capsys):
    assert reproduce() == 2
    assert reproduce(tmp_path / "missing.yaml") == 2
    assert "table not found" in capsys.readouterr().err
    table = write_table(tmp_path, {"columns": [{"metric": "fid"}], "evaluate": {"metrics": "fid", "nmu": 5},
                                   "rows": [{"name": "a", "config": "experiments/quickstart.yaml"}]})
    assert reproduce(table, "--dry-run") == 2
    assert "unknown evaluate options ['nmu']" in capsys.readouterr().err


def test_a_modes_figure_draws_one_panel_per_row_and_parallel_jobs_train_the_runs(tmp_path, capsys, monkeypatch):
    table = write_table(tmp_path, {
        "title": "Figure demo", "source": "nobody 2026", "seeds": 1,
        "columns": [{"metric": "modes_covered_min1", "label": "modes"},
                    {"metric": "mode_reverse_kl", "label": "reverse KL", "better": "lower"}],
        "evaluate": {"metrics": "modes"},
        "figure": {"kind": "modes", "columns": 2},
        "rows": [
            {"name": "GAN", "config": "experiments/quickstart.yaml", "fit": ["--max_iterations", "5"]},
            {"name": "PacGAN2", "config": "experiments/quickstart.yaml",
             "fit": ["--max_iterations", "5", "--model.init_args.discriminator_options", "{hidden: [128, 128], pack: 2}"]},
            {"name": "quoted", "paper": {"modes_covered_min1": 8}},
        ]}, name="figure_demo")
    results = tmp_path / "results"
    assert reproduce(table, "--runs", tmp_path / "runs", "--results", results, "--jobs", "2") == 0
    err = capsys.readouterr().err
    assert "training 2 run(s), 2 at a time" in err and err.count("trained quickstart_") == 2, err
    text = (results / "tables_figure_demo.md").read_text()
    assert "--jobs 2" in text and "0 finished run(s) reused" in text
    png = results / "tables_figure_demo.png"
    assert "![Figure demo](tables_figure_demo.png)" in text and png.is_file()
    from PIL import Image

    width, height = Image.open(png).size
    assert width > 1.5 * height  # two panels side by side (the quoted row has no panel)
    assert re.search(r"\| PacGAN2 \| – \| \d\.\d\d \| \d\.\d\d \|", text), text

    # a figure that cannot be drawn is said in the table and fails the command; the runs are reused
    import lit_gan.reproduce.figures as figures

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(figures, "draw_modes", broken)
    assert reproduce(table, "--runs", tmp_path / "runs", "--results", results) == 1
    assert "tables_figure_demo / figure: No space left on device" in capsys.readouterr().err
    assert "the figure could not be drawn: No space left on device" in (results / "tables_figure_demo.md").read_text()

    bad = write_table(tmp_path, {**yaml.safe_load(table.read_text()), "figure": {"kind": "violin"}}, name="bad")
    assert reproduce(bad, "--dry-run") == 2
    assert "figure needs a kind, one of ('modes', 'curves')" in capsys.readouterr().err


SHIPPED = ["goodfellow2014/table1.yaml", "lucic2018/fid_table.yaml", "isola2017/facades.yaml",
           "zhu2017/monet2photo.yaml", "toy/ring8.yaml", "fashion_mnist/classifier_fid.yaml"]


@pytest.mark.slow
def test_the_mode_collapse_tables_run_quick_on_fixtures(tmp_path, capsys):
    """The remedies (minibatch discrimination, packing) through fit, evaluate (prdc, modes) and
    the 2-D table's figure, at CPU-sized budgets on the Fashion-MNIST-format fixture."""
    data = write_data_root(tmp_path / "data")
    results = tmp_path / "results"
    tables = [REPO / "experiments/fashion_mnist/mode_collapse.yaml", REPO / "experiments/lin2018/pacgan_2d.yaml"]
    assert reproduce(*tables, "--quick", "--runs", tmp_path / "runs", "--results", results, "--data-root", data,
                     "--jobs", "2") == 0, capsys.readouterr().err
    fashion = (results / "fashion_mnist_mode_collapse.md").read_text()
    pacgan = (results / "lin2018_pacgan_2d.md").read_text()
    for text in (fashion, pacgan):
        assert "**Quick run**" in text and "not produced" not in text, text
    assert re.search(r"\| DCGAN \+ packing, m = 2 \(PacGAN2\) \| [\d.]+ \| \d+\.\d \| [\d.]+ \| [\d.]+ \|", fashion), fashion
    assert "![PacGAN" in pacgan and (results / "lin2018_pacgan_2d.png").is_file()
    assert re.search(r"\| 2D-grid: PacGAN4 \| 24\.8 ± 0\.2 \| \d+\.\d \|", pacgan), pacgan


@pytest.mark.slow
def test_the_lessons_tables_run_quick_on_fixtures(tmp_path, capsys):
    """The four lessons (non-saturating loss, WGAN's signal, step ratios, label smoothing): fit
    with the metrics callback on the quick classifier, evaluate, log values, curves figures."""
    data = write_data_root(tmp_path / "data")
    results = tmp_path / "results"
    names = ["non_saturating", "wgan_signal", "step_ratio", "label_smoothing"]
    tables = [REPO / f"experiments/lessons/{n}.yaml" for n in names]
    assert reproduce(*tables, "--quick", "--runs", tmp_path / "runs", "--results", results, "--data-root", data) == 0, \
        capsys.readouterr().err
    for name in names:
        text = (results / f"lessons_{name}.md").read_text()
        assert "**Quick run**" in text and "not produced" not in text and "could not be drawn" not in text, text
        assert (results / f"lessons_{name}.png").is_file()
    text = (results / "lessons_non_saturating.md").read_text()
    assert re.search(r"\| minimax: G minimises log\(1 - D\(G\(z\)\)\) \| \d+\.\d{3} \| 0\.\d{3} \|", text), text


@pytest.mark.slow
def test_the_stabilizers_table_runs_quick_on_fixtures(tmp_path, capsys):
    """12 DCGAN rows (3 training-set shares x plain / EMA / DiffAugment / both): the subset option,
    both stabilizers, the FID-curve callback, fid + prdc, and the curves-and-samples figure."""
    data = write_data_root(tmp_path / "data")
    results = tmp_path / "results"
    start = time.monotonic()
    assert reproduce(REPO / "experiments/fashion_mnist/stabilizers.yaml", "--quick", "--runs", tmp_path / "runs",
                     "--results", results, "--data-root", data) == 0, capsys.readouterr().err
    print(f"reproduce --quick, stabilizers: {time.monotonic() - start:.0f} s")
    text = (results / "fashion_mnist_stabilizers.md").read_text()
    assert "**Quick run**" in text and "not produced" not in text and "could not be drawn" not in text, text
    for share in ("100%", "10%", "1%"):
        for setting in ("plain", "EMA", "DiffAugment", "EMA \\+ DiffAugment"):
            # name, classifier FID, precision, recall, coverage: four numbers
            row = rf"\| {share}: {setting} \| -?[\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|"
            assert re.search(row, text), (share, setting, text)
    assert (results / "fashion_mnist_stabilizers.png").is_file() and "![" in text


@pytest.mark.slow
def test_every_shipped_table_runs_quick_on_fixtures(tmp_path, capsys):
    """The whole pipeline of every table (MNIST, CelebA, facades, monet2photo fixtures; a
    pooled-colour extractor in place of Inception, which can't be downloaded here)."""
    data = write_data_root(tmp_path / "data")
    extractor = write_rgb_extractor(tmp_path / "rgb.pt")
    results = tmp_path / "results"
    common = ["--quick", "--runs", tmp_path / "runs", "--results", results, "--data-root", data]
    start = time.monotonic()
    inception_tables = [REPO / "experiments" / t for t in SHIPPED[1:4]]
    own_tables = [REPO / "experiments" / t for t in SHIPPED if t not in SHIPPED[1:4]]
    assert reproduce(*inception_tables, *common, "--feature-extractor", extractor) == 0, capsys.readouterr().err
    assert reproduce(*own_tables, *common) == 0, capsys.readouterr().err
    print(f"reproduce --quick, all tables: {time.monotonic() - start:.0f} s")
    for name in ("goodfellow2014_table1", "lucic2018_fid_table", "isola2017_facades", "zhu2017_monet2photo",
                 "toy_ring8", "fashion_mnist_classifier_fid"):
        text = (results / f"{name}.md").read_text()
        assert "**Quick run**" in text and "not produced" not in text, text
        rows = [line for line in text.splitlines() if line.startswith("| ")][1:]  # [0]: the header
        trained = [line for line in rows if not any(c in line for c in ("DBN", "CAE", "GSN", "VEEGAN", "context:"))]
        # a number somewhere after the row's name (split at 2: the cells after it keep their "| ")
        assert trained and all(re.search(r"\| -?\d", line.split("|", 2)[-1]) for line in trained), text


def test_rows_needing_missing_inception_weights_are_skipped_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LIT_GAN_INCEPTION_WEIGHTS", str(tmp_path / "not_here.pth"))
    table = write_table(tmp_path, {"columns": [{"metric": "fid"}], "evaluate": {"metrics": "fid"},
                                   "rows": [{"name": "a", "config": "experiments/quickstart.yaml", "paper": {"fid": 3.0}}]})
    runs, results = tmp_path / "runs", tmp_path / "results"
    assert reproduce(table, "--runs", runs, "--results", results, "--dry-run") == 0
    assert "a: will be skipped:" in capsys.readouterr().out
    assert reproduce(table, "--runs", runs, "--results", results) == 1
    text = (results / "tables_demo.md").read_text()
    assert "| a | 3 | – |" in text and "not produced: Inception weights" in text and "not_here.pth" in text
    assert not any(runs.rglob("fit.log"))  # nothing was trained


def test_log_values_and_a_curves_figure_come_from_the_runs_training_logs(tmp_path, capsys):
    table = write_table(tmp_path, {
        "title": "Curves demo", "source": "nobody 2026", "seeds": 2,
        "columns": [{"metric": "modes_covered", "label": "modes"},
                    {"metric": "d_fake_early", "label": "D(G(z)) its 1-5", "digits": 3},
                    {"metric": "loss_vs_modes", "label": "r"}],
        "evaluate": {"metrics": "modes"},
        "log_values": {"d_fake_early": {"key": "train/d_fake", "iterations": [1, 5]},
                       "typo": {"key": "train/d_fkae"},
                       "loss_vs_modes": {"key": "train/loss_d", "vs": "val/modes_covered", "stat": "spearman"}},
        "figure": {"kind": "curves", "samples": True,
                   "panels": [{"key": "train/d_fake", "smooth": 2}, {"key": "train/grad_norm_g", "x": "step"}]},
        "rows": [
            {"name": "minimax", "config": "experiments/quickstart.yaml",
             "fit": ["--max_iterations", "12", "--trainer.log_every_n_steps", "1"]},
            {"name": "own window", "config": "experiments/quickstart.yaml",
             "fit": ["--max_iterations", "12", "--trainer.log_every_n_steps", "1"],
             "log_values": {"d_fake_early": {"key": "train/d_fake", "iterations": [6, 12]}}},
        ]}, name="curves_demo")
    runs, results = tmp_path / "runs", tmp_path / "results"
    assert reproduce(table, "--runs", runs, "--results", results) == 0, capsys.readouterr().err
    text = (results / "tables_curves_demo.md").read_text()
    cells = {line.split(" | ")[0][2:]: line.split(" | ")[2] for line in text.splitlines() if line.startswith("| ")}
    assert re.fullmatch(r"0\.\d{3} ± 0\.\d{3} \(n=2\)", cells["minimax"]), text
    assert cells["minimax"] != cells["own window"]  # the row's window replaces the table's
    assert "| – |" in text  # ModeCoverage logs once at the end: too few points for a correlation
    assert "**Note**: row 'minimax': run quickstart_" in text and "logged nothing for log_values typo: train/d_fkae" in text
    assert (results / "tables_curves_demo.png").is_file() and "![Curves demo](tables_curves_demo.png)" in text
    import csv

    (log,) = (runs / "tables_curves_demo").glob("quickstart_*seed0/version_0/metrics.csv")
    logged = list(csv.DictReader(log.open()))
    assert sum(1 for r in logged if r.get("train/grad_norm_g")) == 12  # G's gradient norm, every iteration
    assert all(float(r["train/grad_norm_d"]) > 0 for r in logged if r.get("train/grad_norm_d"))


def test_quick_runs_give_a_metrics_callback_the_quick_build_of_a_required_extractor(tmp_path, capsys):
    table = write_table(tmp_path, {
        "columns": [{"metric": "fid"}], "evaluate": {"metrics": "fid", "feature_extractor": "extractors/x.pt2"},
        "requires": [{"path": "extractors/x.pt2", "command": ["train-classifier"]}],
        "rows": [{"name": "a", "config": "experiments/quickstart.yaml",
                  "fit": ['--trainer.callbacks+={"init_args": {"feature_extractor": "extractors/x.pt2"}}']}]})
    runs = tmp_path / "runs"
    assert reproduce(table, "--runs", runs, "--dry-run", "--quick") == 0
    out = capsys.readouterr().out
    assert f'"feature_extractor": "{runs}/tables_demo/requires/x.pt2"' in out, out
    assert reproduce(table, "--runs", runs, "--dry-run", "--feature-extractor", "mine.pt") == 0
    assert '"feature_extractor": "mine.pt"' in capsys.readouterr().out
    assert reproduce(table, "--runs", runs, "--dry-run") == 0
    assert '"feature_extractor": "extractors/x.pt2"' in capsys.readouterr().out

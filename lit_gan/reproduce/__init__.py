"""``python -m lit_gan reproduce``: paper tables as YAML files, run, evaluated and written
as markdown with the paper's numbers beside ours (see lit_gan/commands/reproduce.py)."""

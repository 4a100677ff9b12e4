"""``python -m lit_gan reproduce``: paper tables as YAML files, run, evaluated and written
as markdown with the paper's numbers beside ours (the command: lit_gan/commands/reproduce.py;
one invocation: lit_gan/reproduce/session.py)."""

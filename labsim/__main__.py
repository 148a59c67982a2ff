"""``python -m labsim``: the ``labsim`` command (labsim.entry answers signals from the start)."""

from labsim.entry import labsim

if __name__ == "__main__":
    labsim()

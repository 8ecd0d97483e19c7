"""semcom.cli: user errors recognised by class; the SNR correction refuses a missing explicit
path instead of running uncorrected."""

from __future__ import annotations

import importlib

import pytest

from semcom.cli import USER_ERRORS, is_user_error, main


@pytest.mark.parametrize("mod,name", USER_ERRORS)
def test_every_user_error_names_a_real_exception_class(mod, name):
    cls = getattr(importlib.import_module(mod), name)
    assert isinstance(cls, type) and issubclass(cls, Exception)
    assert is_user_error(cls("x"))


def test_user_errors_by_class_not_by_name():
    from semcom.radio import RadioError
    from semcom.validate import OptionError

    assert is_user_error(OptionError("bad")) and is_user_error(RadioError("no radio"))
    assert is_user_error(FileNotFoundError("f"))
    assert not is_user_error(ValueError("a bug"))
    # a class that merely shares a user error's name is not one
    assert not is_user_error(type("OptionError", (ValueError,), {})("impostor"))


def test_snr_correction_explicit_missing_path_is_an_error(tmp_path):
    from semcom.snr_correction import DEFAULT_PATH, SnrCorrection

    with pytest.raises(FileNotFoundError):
        SnrCorrection.load(tmp_path / "typo.json")
    assert (SnrCorrection.load() is None) == (not DEFAULT_PATH.exists())
    c = SnrCorrection([0.0, 10.0], [1.0, 2.0])
    c.save(tmp_path / "c.json")
    assert SnrCorrection.load(tmp_path / "c.json")(5.0) == pytest.approx(3.5)


def test_a_bad_option_is_one_line_and_exit_2(capsys):
    assert main(["rx", "--feedback", "bogus://x", "--file", "/dev/null"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--feedback bogus://x" in err[0]


def test_every_impairment_is_an_option_of_channel_and_loopback():
    """The emulator declares its impairments once (channel.impairments); the channel's and the
    loopback's options are made from them and reach the emulator's settings."""
    from dataclasses import fields

    from apps.channel import settings_from_args
    from channel import FLAGS, KINDS, Settings
    from semcom.cli import build_parser

    sample = {"multipath": "incp", "fading": "rician"}
    argv = []
    for f in fields(Settings):
        argv += [FLAGS[f.name], sample.get(f.name, "1.5")]
    for cmd in ("channel", "loopback"):
        args = build_parser().parse_args([cmd, *argv, "--snr-walk", "0,20,3"])
        got = settings_from_args(args)
        assert set(got) == {f.name for f in fields(Settings)}, cmd
        assert got["cfo_hz"] == 1.5 and got["fading"] == "rician"
        assert all(hasattr(args, f"snr_{k}") for k in KINDS) and args.snr_walk == "0,20,3"

"""CPU stand-in for kvikio.defaults (see fake_kvikio/kvikio)."""
_settings = {"num_threads": 1, "compat_mode": "ON (fake)"}


def set(config, /):
    _settings.update(config)


def get(name):
    return _settings[name]

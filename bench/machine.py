"""What machine a benchmark ran on, for the results files of bench/*.py."""
import os
import platform
import subprocess


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """Host, CPU, cores, Python and the first GPU nvidia-smi lists (None where there is none)."""
    info = {"host": platform.node(), "cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "gpu": None}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.strip():
            info["gpu"] = out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    return info

"""bench/device/sanitizer_triage.py on log excerpts in compute-sanitizer's format."""
import pathlib
import subprocess
import sys

TRIAGE = pathlib.Path(__file__).resolve().parents[1] / "device" / "sanitizer_triage.py"

CUFILE_API_ERROR = """\
========= Program hit CUDA_ERROR_INVALID_CONTEXT (error 201) due to "invalid device context" on CUDA API call to cuCtxPopCurrent_v2.
=========     Saved host backtrace up to driver entry point at error
=========         Host Frame:  [0x12830d] in libcufile.so.0
=========         Host Frame: cuFileRead [0xb21c2] in libcufile.so.0
=========         Host Frame: tilestream::cuda::gds::FileHandle::read(void*, unsigned long, unsigned long, unsigned long) const [0x21bed8] in tilestream_gpu_tests
=========
"""
CUFILE_LEAK = """\
========= Leaked 65,536 bytes at 0x7f10f0800000
=========     Saved host backtrace up to driver entry point at allocation time
=========         Host Frame: cuMemAlloc_v2 [0x32b91f] in libcuda.so.1
=========         Host Frame:  [0x15f284] in libcufile.so.0
=========         Host Frame: cuFileDriverOpen [0xb24cd] in libcufile.so.0
=========
"""
DELIBERATE_OOM = """\
========= Program hit cudaErrorMemoryAllocation (error 2) due to "out of memory" on CUDA API call to cudaMallocAsync.
=========     Saved host backtrace up to driver entry point at error
=========         Host Frame: tilestream::cuda::DeviceBuffer::DeviceBuffer(unsigned long, tilestream::cuda::Stream const&) [0x2365fc] in tilestream_gpu_tests
=========         Host Frame: tilestream::cuda::(anonymous namespace)::CudaMemory_OutOfMemoryNamesTheSizeAndTheFreeMemory_Test::TestBody() [0x12425e] in tilestream_gpu_tests
=========
"""
OUR_INVALID_READ = """\
========= Invalid __global__ read of size 1 bytes
=========     at place_tiles_kernel(...)+0x1f0 in place_tiles.cu:40
=========     by thread (3,0,0) in block (0,0,0)
=========     Address 0x7f00 is out of bounds
=========     Saved host backtrace up to driver entry point at kernel launch time
=========         Host Frame: cuLaunchKernel [0x2f8] in libcuda.so.1
=========         Host Frame: tilestream::cuda::place_tiles(...) [0x100] in tilestream_gpu_tests
=========
"""
OUR_LEAK = """\
========= Leaked 1,024 bytes at 0x7f10f0800000
=========     Saved host backtrace up to driver entry point at allocation time
=========         Host Frame: cuMemAlloc_v2 [0x32b91f] in libcuda.so.1
=========         Host Frame: tilestream::cuda::DeviceBuffer::DeviceBuffer(unsigned long, tilestream::cuda::Stream const&) [0x2365fc] in tilestream_gpu_tests
=========
"""


def run(tmp_path, *bodies, summary="========= ERROR SUMMARY: 0 errors\n"):
    paths = []
    for i, body in enumerate(bodies):
        path = tmp_path / f"memcheck_{i}.log"
        path.write_text("========= COMPUTE-SANITIZER\n[==========] Running 1 test\n" + body + summary)
        paths.append(str(path))
    result = subprocess.run([sys.executable, str(TRIAGE), *paths], capture_output=True, text=True)
    return result.returncode, result.stdout


def test_cufile_reports_and_deliberate_errors_pass(tmp_path):
    code, out = run(tmp_path, CUFILE_API_ERROR + CUFILE_LEAK, DELIBERATE_OOM)
    assert code == 0, out
    assert "all logs: ours 0, cufile 2, deliberate 1" in out


def test_an_invalid_access_in_our_kernel_fails(tmp_path):
    code, out = run(tmp_path, CUFILE_API_ERROR, OUR_INVALID_READ)
    assert code == 1
    assert "all logs: ours 1, cufile 1, deliberate 0" in out
    assert "ours       Invalid __global__ read of size N bytes" in out


def test_a_leak_allocated_by_our_code_fails(tmp_path):
    code, out = run(tmp_path, OUR_LEAK)
    assert code == 1
    assert "ours 1" in out


def test_the_deliberate_test_name_alone_does_not_excuse_another_call(tmp_path):
    other_call = DELIBERATE_OOM.replace("cudaMallocAsync", "cudaMemcpyAsync")
    code, out = run(tmp_path, other_call)
    assert code == 1


def test_a_log_without_a_summary_line_is_unfinished(tmp_path):
    code, out = run(tmp_path, CUFILE_API_ERROR, summary="")
    assert code == 2
    assert "NO SUMMARY LINE" in out

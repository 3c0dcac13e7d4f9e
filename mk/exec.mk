# mk/exec.mk - the execution stub bin/parplan-exec (OpenBLAS + MPI), its CUDA build
# (`make exec-cuda`: cuBLAS + NCCL, skipped with a message where nvcc is missing) and
# `make calibrate-local` (measure this machine, write hwprofiles/cpu-local.json).
MPICC   ?= mpicc
EXEC    := $(BIN)/parplan-exec
EXEC_CUDA := $(BIN)/parplan-exec-cuda
EXEC_COMMON := src/exec/main.c src/exec/options.c src/exec/setup.c src/exec/layer.c \
               src/exec/validate.c src/exec/timing.c src/exec/output.c src/exec/backend_cpu.c
EXEC_OBJ := $(EXEC_COMMON:%.c=$(BUILD)/%.o) $(BUILD)/src/exec/backend_cuda_absent.o
EXEC_LIBS := -lopenblas
NVCC    ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
CUDA_HOME ?= $(if $(NVCC),$(patsubst %/bin/nvcc,%,$(NVCC)),/usr/local/cuda)
CUDA_LIBDIR := $(firstword $(wildcard $(CUDA_HOME)/lib64 $(CUDA_HOME)/lib))
# A100 (sm_80) and H100/H200 (sm_90) machine code, plus PTX for newer GPUs.
NVCC_ARCH ?= -gencode 'arch=compute_80,code=sm_80' -gencode 'arch=compute_90,code=[sm_90,compute_90]'
EXEC_CUDA_OBJ := $(EXEC_COMMON:%.c=$(BUILD)/cuda/%.o) $(BUILD)/cuda/src/exec/backend_cuda.o \
                 $(BUILD)/cuda/src/exec/backend_cuda_kernels.o

exec: $(EXEC)

$(BUILD)/src/exec/%.o: src/exec/%.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(EXEC): $(EXEC_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(EXEC_OBJ) $(LIB) $(LDLIBS) $(EXEC_LIBS)

# CUDA: the same stub with the cuda backend linked in.  nvcc compiles only the kernels.
$(BUILD)/cuda/src/exec/%.o: src/exec/%.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CPPFLAGS) -isystem $(CUDA_HOME)/include $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/cuda/src/exec/backend_cuda_kernels.o: src/exec/backend_cuda_kernels.cu
	@mkdir -p $(dir $@)
	$(NVCC) -O2 -std=c++17 $(NVCC_ARCH) -Xcompiler -Wall,-Werror -c $< -o $@

$(EXEC_CUDA): $(EXEC_CUDA_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(EXEC_CUDA_OBJ) $(LIB) $(LDLIBS) $(EXEC_LIBS) \
	  -L$(CUDA_LIBDIR) -Wl,-rpath,$(CUDA_LIBDIR) -lcublas -lnccl -lcudart -lstdc++

ifeq ($(NVCC),)
exec-cuda:
	@echo "exec-cuda: skipped, no nvcc on PATH or at /usr/local/cuda/bin/nvcc"
else
exec-cuda: $(EXEC_CUDA)
	@echo "exec-cuda: built $(EXEC_CUDA) with $(NVCC)"
endif

# Measure this machine with 2 ranks (or RANKS=n) and write hwprofiles/cpu-local.json.
RANKS ?= 2
calibrate-local: all
	@RANKS=$(RANKS) PARPLAN=$(PARPLAN) EXEC=$(EXEC) BUILD=$(BUILD) sh scripts/calibrate-local

-include $(EXEC_OBJ:.o=.d) $(EXEC_CUDA_OBJ:.o=.d)

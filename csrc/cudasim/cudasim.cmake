# TORCHAUC_CUDASIM=ON: the CUDA kernels run on the CPU (csrc/cudasim, tests/cudasim). Builds, never
# installed into the wheel:
#   torchauc_cudasim      libtorchauc_cudasim.so: every csrc/*/cuda.cu (rewritten by
#                         tools/cudasim_rewrite.py, compiled as C++ against the shadow headers) +
#                         the unchanged glue and schemas, registered as torch.ops.torchauc_cudasim.*
#                         on the CPU key (glue_prelude.h) + torch.ops.cudasim.* controls.
#   cudasim_driver_asan   tests/cudasim/driver.cpp over the same kernels, ASan + UBSan (no torch)
#   cudasim_driver_tsan   the same under ThreadSanitizer (CUDA threads are TSan fibers)
#   torchauc_cudasim_mutant_<m>  the library with one deliberate kernel bug (tools/cudasim_mutants.sh)
# Kernel caps are tiny here so grid-stride loops, multi-batch and fallback paths run at test sizes.
set(TORCHAUC_CUDASIM_CAPS
    TORCHAUC_MAX_GRID=3 TORCHAUC_MAX_GRID_Y=2 TORCHAUC_AUROC_BATCH_ITEMS=64 TORCHAUC_AUROC_SHARED_GROUPS=4
    TORCHAUC_BBOX_SEGMENT=5 TORCHAUC_MC_PART_SAMPLES=7)
set(_sim_dir ${CMAKE_CURRENT_SOURCE_DIR}/csrc/cudasim)
set(_sim_gen ${CMAKE_CURRENT_BINARY_DIR}/cudasim_gen)
set(_sim_rewrite ${CMAKE_CURRENT_SOURCE_DIR}/tools/cudasim_rewrite.py)

# kernel sources rewritten into C++ (same line numbers, #line points back at the .cu), plus the
# harness's own deliberately broken kernels (tests/cudasim/selftest.cu)
set(_sim_kernels)
foreach(cu ${TORCHAUC_CU_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/tests/cudasim/selftest.cu)
  file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR} ${cu})
  string(REPLACE "/" "_" flat ${rel})
  add_custom_command(
    OUTPUT ${_sim_gen}/${flat}.cc
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_sim_gen}
    COMMAND ${Python_EXECUTABLE} ${_sim_rewrite} ${cu} ${_sim_gen}/${flat}.cc ${rel}
    DEPENDS ${cu} ${_sim_rewrite}
    COMMENT "cudasim: rewriting ${rel}")
  list(APPEND _sim_kernels ${_sim_gen}/${flat}.cc)
endforeach()

set(_sim_flags -O1 -fno-omit-frame-pointer -Wall -Wno-unknown-pragmas -Wno-sign-compare)
function(cudasim_kernels target)  # OBJECT library of the rewritten kernels (+ runtime) with extra flags
  add_library(${target} OBJECT ${_sim_kernels} ${_sim_dir}/runtime.cpp ${ARGN})
  target_include_directories(${target} PRIVATE ${_sim_dir}/include ${CMAKE_CURRENT_SOURCE_DIR}/csrc)
  target_compile_definitions(${target} PRIVATE ${TORCHAUC_CUDASIM_CAPS})
  target_compile_options(${target} PRIVATE ${_sim_flags})
endfunction()
# kernels see the device side of the shared headers (__CUDA_ARCH__ paths), as in nvcc's device pass
set_source_files_properties(${_sim_kernels} PROPERTIES COMPILE_DEFINITIONS "__CUDACC__;__CUDA_ARCH__=900")

# the glue and schemas, unchanged, re-registered under torchauc_cudasim on the CPU key
file(GLOB _sim_schemas CONFIGURE_DEPENDS csrc/*/schema.cpp)
add_library(torchauc_cudasim_glue OBJECT ${TORCHAUC_CUDA_GLUE} ${_sim_schemas} csrc/core/labels.cpp ${_sim_dir}/ops.cpp)
target_include_directories(torchauc_cudasim_glue PRIVATE ${_sim_dir}/include ${TORCH_INCLUDES}
                           ${CMAKE_CURRENT_SOURCE_DIR}/csrc)
target_compile_definitions(torchauc_cudasim_glue PRIVATE _GLIBCXX_USE_CXX11_ABI=${TORCH_CXX11_ABI}
                           ${TORCHAUC_CUDASIM_CAPS})
target_compile_options(torchauc_cudasim_glue PRIVATE -O1 -Wall -Wno-unknown-pragmas -include
                       ${_sim_dir}/glue_prelude.h)
target_link_libraries(torchauc_cudasim_glue PRIVATE OpenMP::OpenMP_CXX)

function(cudasim_library target kernels)
  add_library(${target} SHARED $<TARGET_OBJECTS:${kernels}> $<TARGET_OBJECTS:torchauc_cudasim_glue>)
  target_link_directories(${target} PRIVATE ${TORCH_LIBDIR})
  target_link_libraries(${target} PRIVATE c10 torch torch_cpu OpenMP::OpenMP_CXX)
endfunction()

cudasim_kernels(torchauc_cudasim_kernels)
cudasim_library(torchauc_cudasim torchauc_cudasim_kernels)

# the kernel driver under the sanitizers (no torch): ASan + UBSan, and TSan
set(_asan -fsanitize=address,undefined -fno-sanitize-recover=undefined -g)
cudasim_kernels(cudasim_driver_asan_obj tests/cudasim/driver.cpp)
target_compile_options(cudasim_driver_asan_obj PRIVATE ${_asan})
add_executable(cudasim_driver_asan $<TARGET_OBJECTS:cudasim_driver_asan_obj>)
target_link_options(cudasim_driver_asan PRIVATE ${_asan})
set(_tsan -fsanitize=thread -g)
cudasim_kernels(cudasim_driver_tsan_obj tests/cudasim/driver.cpp)
target_compile_options(cudasim_driver_tsan_obj PRIVATE ${_tsan})
# 32-thread blocks: TSan tracks few threads at once well, and a 257th fiber makes it crawl
target_compile_definitions(cudasim_driver_tsan_obj PRIVATE TORCHAUC_THREADS=32)
add_executable(cudasim_driver_tsan $<TARGET_OBJECTS:cudasim_driver_tsan_obj>)
target_link_options(cudasim_driver_tsan PRIVATE ${_tsan})

# mutants: core/launch.cuh with one deliberate bug each (tools/cudasim_mutate.py), shadowing the real
# header through an include directory searched first
foreach(m missing_barrier wide_bound)
  set(_mdir ${CMAKE_CURRENT_BINARY_DIR}/cudasim_mutant_${m})
  add_custom_command(
    OUTPUT ${_mdir}/core/launch.cuh
    COMMAND ${Python_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/tools/cudasim_mutate.py ${m}
            ${CMAKE_CURRENT_SOURCE_DIR}/csrc/core/launch.cuh ${_mdir}/core/launch.cuh
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/csrc/core/launch.cuh ${CMAKE_CURRENT_SOURCE_DIR}/tools/cudasim_mutate.py)
  cudasim_kernels(torchauc_cudasim_mutant_${m}_obj ${_mdir}/core/launch.cuh)
  target_include_directories(torchauc_cudasim_mutant_${m}_obj BEFORE PRIVATE ${_mdir})
  cudasim_library(torchauc_cudasim_mutant_${m} torchauc_cudasim_mutant_${m}_obj)
  set_target_properties(torchauc_cudasim_mutant_${m} PROPERTIES EXCLUDE_FROM_ALL ON)
endforeach()

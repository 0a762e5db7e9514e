// Host/device qualifiers so the math headers compile in .cpp (CPU) and .cu (CUDA) alike.
#pragma once
#if defined(__CUDACC__)
#define TAUC_HD __host__ __device__ __forceinline__
#else
#define TAUC_HD inline
#endif

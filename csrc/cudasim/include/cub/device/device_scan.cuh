// cudasim shadow: see cub/cudasim_cub.h.
#pragma once
#include <cub/cudasim_cub.h>

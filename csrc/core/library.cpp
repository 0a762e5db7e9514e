// The torchauc op namespace. Every family adds its schemas with TORCH_LIBRARY_FRAGMENT in
// csrc/<family>/schema.cpp; fake impls and autograd live in python/torchauc/_ops/<family>.py.
#include <torch/library.h>

TORCH_LIBRARY(torchauc, m) {}

// kernel-bench: throughput of the Kernels matmul / matvec against a naive loop and OpenBLAS.
// Usage: kernel-bench [peak] [matmul] [matvec] [qmatmul] [packed] [quick] [pool]   (default: peak pool matmul matvec packed)
let arguments = Set(CommandLine.arguments.dropFirst())
runBenchmarks(sections: arguments.isEmpty ? ["peak", "pool", "matmul", "matvec", "packed"] : arguments)

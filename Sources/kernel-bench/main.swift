// kernel-bench: throughput of the Kernels matmul / matvec against a naive loop and OpenBLAS.
// Usage: kernel-bench [peak] [matmul] [matvec] [quick]   (default: peak matmul matvec)
let arguments = Set(CommandLine.arguments.dropFirst())
runBenchmarks(sections: arguments.isEmpty ? ["peak", "matmul", "matvec"] : arguments)

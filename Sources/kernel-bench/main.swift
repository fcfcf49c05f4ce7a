// kernel-bench: throughput of the Kernels matmul / matvec against a naive loop and OpenBLAS.
// Usage: kernel-bench [matmul] [matvec] [peak]   (default: all)
let arguments = Set(CommandLine.arguments.dropFirst())
runBenchmarks(sections: arguments.isEmpty ? ["peak", "matmul", "matvec"] : arguments)

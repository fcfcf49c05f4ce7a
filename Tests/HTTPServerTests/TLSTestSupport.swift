import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import TestSupport

/// What an external tool printed, and how it exited.
struct ToolResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a tool with optional stdin, killing it (the process started here, by handle) if it
/// outlives `timeout`, so a hung client fails the test rather than hanging it.
func runTool(_ path: String, _ arguments: [String], stdin: Data? = nil, timeout: Double = 10) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    // Both pipes drained concurrently: a tool filling stderr must not block on it.
    let errData = DataBox()
    let errDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        errData.data = err.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()  // the semaphore orders the write before the read below
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    process.waitUntilExit()
    watchdog.cancel()
    return ToolResult(status: process.terminationStatus, stdout: data,
                      stderr: String(decoding: errData.data, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}

let opensslPath = "/usr/bin/openssl"
let curlPath = "/usr/bin/curl"
let haveTLSTools = toolTestsEnabled(opensslPath, curlPath)

/// Whether the tests that drive outside tools run. Where a tool is missing they are skipped on a
/// developer's machine; under `CI=true` (`.ci/run` sets it) they run anyway and fail on the
/// missing tool, so a CI image without curl or openssl cannot pass by skipping them.
func toolTestsEnabled(_ paths: String...) -> Bool {
    paths.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        || ProcessInfo.processInfo.environment["CI"] == "true"
}

/// A self-signed P-256 certificate for 127.0.0.1/localhost, made at test time in a temp dir.
struct TestCertificate {
    let directory: URL
    var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    var keyPath: String { directory.appendingPathComponent("key.pem").path }
    var tls: TLSConfiguration { TLSConfiguration(certificateChainPath: certificatePath, privateKeyPath: keyPath) }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlcm-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try runTool(opensslPath, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
            "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        guard result.status == 0 else { throw TestClientError(description: "openssl req failed: \(result.stderr)") }
    }

    /// Another key, for the mismatched-key case.
    func makeOtherKey() throws -> String {
        let path = directory.appendingPathComponent("other-key.pem").path
        let result = try runTool(opensslPath, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", path])
        guard result.status == 0 else { throw TestClientError(description: "openssl genpkey failed: \(result.stderr)") }
        return path
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// A TLS server on an ephemeral port with a fresh certificate, for the duration of `body`.
func withTLSServer(
    _ configuration: ServerConfiguration = ServerConfiguration(),
    handler: @escaping HTTPHandler,
    _ body: (Server, TestCertificate) throws -> Void
) throws {
    let certificate = try TestCertificate()
    defer { certificate.remove() }
    var configuration = configuration
    configuration.tls = certificate.tls
    try withServer(configuration, handler: handler) { server in try body(server, certificate) }
}

/// curl over TLS, trusting only the test certificate.
func curlTLS(_ certificate: TestCertificate, _ arguments: [String], timeout: Double = 10) throws -> ToolResult {
    try runTool(curlPath, ["-sS", "--max-time", "\(Int(timeout))", "--cacert", certificate.certificatePath] + arguments,
                timeout: timeout + 2)
}

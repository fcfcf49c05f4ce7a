extension CharClass {
    /// Code points that Swift's Unicode tables (Unicode 17 in Swift 6.3) classify as letters or
    /// numbers but that the library's regex engine (Oniguruma, an older Unicode) treats as unassigned,
    /// i.e. "other". CharClassTests compares every code point with the library and prints this table
    /// afresh when a toolchain or library update changes it.
    static let newerThanLibrary: [(first: UInt32, last: UInt32, cls: CharClass)] = [
        (0x88f, 0x88f, .other), (0xc5c, 0xc5c, .other), (0xcdc, 0xcdc, .other), (0xa7ce, 0xa7cf, .other),
        (0xa7d2, 0xa7d2, .other), (0xa7d4, 0xa7d4, .other), (0xa7f1, 0xa7f1, .other), (0x10940, 0x10959, .other),
        (0x10ec5, 0x10ec7, .other), (0x11db0, 0x11ddb, .other), (0x11de0, 0x11de9, .other),
        (0x16ea0, 0x16eb8, .other), (0x16ebb, 0x16ed3, .other), (0x16ff2, 0x16ff6, .other),
        (0x187f8, 0x187ff, .other), (0x18d09, 0x18d1e, .other), (0x18d80, 0x18df2, .other),
        (0x1e6c0, 0x1e6de, .other), (0x1e6e0, 0x1e6e2, .other), (0x1e6e4, 0x1e6e5, .other),
        (0x1e6e7, 0x1e6ed, .other), (0x1e6f0, 0x1e6f4, .other), (0x1e6fe, 0x1e6ff, .other),
        (0x2b73a, 0x2b73f, .other), (0x2cea2, 0x2cead, .other), (0x323b0, 0x33479, .other),
    ]
}

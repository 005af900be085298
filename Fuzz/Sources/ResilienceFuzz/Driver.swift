import Foundation

// libFuzzer's driver, called from the executable's entry point. SwiftPM links an executable
// with `main` renamed to `<Module>_main`, so that is the symbol defined here (TOOLCHAIN.md).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The target chosen by `FUZZ_TARGET`.
nonisolated(unsafe) let selected: FuzzTarget? = ProcessInfo.processInfo.environment["FUZZ_TARGET"].flatMap { name in
    FuzzTarget.all.first { $0.name == name }
}

@_cdecl("ResilienceFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let target = selected else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(names)\n".utf8))
        return 2
    }
    _ = target
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { bytes, size in
        let data = bytes.map { Data(bytes: $0, count: size) } ?? Data()
        selected?.body(data)
        return 0
    }
}

/// libFuzzer's classic entry, for when its own `main` drives (the archive's `main` references it).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected?.body(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

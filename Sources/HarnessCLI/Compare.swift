import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Compare: ParsableCommand {
        func run() throws {}
    }
}

import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Parse: ParsableCommand {
        func run() throws {}
    }
}

import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Matrix: ParsableCommand {
        func run() throws {}
    }
}

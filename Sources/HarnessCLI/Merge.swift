import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Merge: ParsableCommand {
        func run() throws {}
    }
}

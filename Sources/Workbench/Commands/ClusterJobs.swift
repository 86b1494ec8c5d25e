import Foundation
import Workload

/// `sweep --emit slurm|k8s DIR`: the job files that run a sweep's shards on a cluster and merge
/// them. Slurm: a job array (one task per shard) and a merge job that waits for it (afterok).
/// Kubernetes: an Indexed Job (one completion per shard) and a merge Job applied once it completes.
/// Both rerun this sweep's own arguments with `--shard i/N --out DIR/shards`; the merged table and
/// JSON land in DIR/sweep.txt and DIR/sweep.json.
struct ClusterJobs {
    enum Kind: String { case slurm, k8s }
    var kind: Kind
    var folder: String
    var shards: Int
    var arguments: [String]

    /// The binary that wrote the jobs, as an absolute path (Slurm tasks run it; `SMARTSERVE` overrides).
    static var binary: String {
        let me = CommandLine.arguments[0]
        if me.contains("/") { return URL(fileURLWithPath: me).standardizedFileURL.path }
        return me
    }

    /// POSIX shell single quotes: the value passes through unchanged, whatever it holds.
    static func quoted(_ s: String) -> String {
        s.isEmpty ? "''" : s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }) && s.allSatisfy(\.isASCII)
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    var sweepLine: String { (["sweep"] + arguments).map(Self.quoted).joined(separator: " ") }

    /// Writes the files; returns their paths.
    func write() throws -> [String] {
        let dir = URL(fileURLWithPath: folder).standardizedFileURL
        let files = kind == .slurm ? slurm(dir.path) : kubernetes()
        var written: [String] = []
        for (name, text, executable) in files {
            let path = dir.appendingPathComponent(name).path
            try AtomicFile.write(text, to: path)
            if executable { chmod(path, 0o755) }
            written.append(path)
        }
        return written
    }

    func slurm(_ dir: String) -> [(String, String, Bool)] {
        let cwd = FileManager.default.currentDirectoryPath
        let bin = "\"${SMARTSERVE:-\(Self.binary)}\""
        let q = Self.quoted
        let array = """
        #!/bin/bash
        # A smartserve sweep split into \(shards) shards: one array task each (sbatch --array=0-\(shards - 1)).
        #SBATCH --job-name=smartserve-sweep
        #SBATCH --array=0-\(shards - 1)
        #SBATCH --cpus-per-task=1
        #SBATCH --output=\(dir)/logs/shard-%a.out
        set -euo pipefail
        cd \(q(cwd))
        \(bin) \(sweepLine) --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard "${SLURM_ARRAY_TASK_ID}/\(shards)" --out \(q(dir + "/shards"))

        """
        let merge = """
        #!/bin/bash
        # Merges the shards into the sweep's table (sweep.txt) and JSON (sweep.json).
        #SBATCH --job-name=smartserve-merge
        #SBATCH --output=\(dir)/logs/merge.out
        set -euo pipefail
        cd \(q(cwd))
        \(bin) merge \(q(dir + "/shards")) > \(q(dir + "/sweep.txt"))
        \(bin) merge \(q(dir + "/shards")) --json > \(q(dir + "/sweep.json"))

        """
        let submit = """
        #!/bin/sh
        # Submits the shard array, then the merge once every shard succeeded.
        set -e
        cd "$(dirname "$0")"
        mkdir -p logs shards
        array=$(sbatch --parsable sweep.sbatch)
        merge=$(sbatch --parsable --dependency=afterok:"${array%%;*}" merge.sbatch)
        echo "submitted shards as job ${array%%;*}, merge as job ${merge%%;*}; results in \(dir)/sweep.txt and sweep.json"

        """
        return [("sweep.sbatch", array, true), ("merge.sbatch", merge, true), ("submit.sh", submit, true)]
    }

    /// Paths stay as given: relative ones resolve under the pod's working directory /work, the
    /// volume that holds the datasets and receives the results.
    func kubernetes() -> [(String, String, Bool)] {
        let shardsDir = folder + "/shards"
        let q = Self.quoted
        func yamlString(_ s: String) -> String { JSON.quote(s) }
        let run = "smartserve \(sweepLine) --jobs 1 --shard \"${JOB_COMPLETION_INDEX}/\(shards)\" --out \(q(shardsDir))"
        let mergeRun = "smartserve merge \(q(shardsDir)) > \(q(folder + "/sweep.txt")) && smartserve merge \(q(shardsDir)) --json > \(q(folder + "/sweep.json"))"
        func job(_ name: String, _ command: String, indexed: Bool) -> String {
            let about = indexed ? "The sweep's \(shards) shards: one completion each (JOB_COMPLETION_INDEX = the shard)."
                                : "The merge: apply once the shard job has completed."
            let completions = indexed
                ? ["  completionMode: Indexed", "  completions: \(shards)", "  parallelism: \(min(shards, 100))", "  backoffLimitPerIndex: 2"]
                : ["  backoffLimit: 3"]
            let lines = ["# " + about,
                         "# Set the image to one with smartserve on its PATH, and the claim to the volume holding the datasets.",
                         "apiVersion: batch/v1", "kind: Job", "metadata:", "  name: \(name)", "spec:"] + completions + [
                "  template:", "    spec:", "      restartPolicy: Never", "      containers:",
                "        - name: smartserve", "          image: smartserve:latest", "          workingDir: /work",
                "          command: [\"sh\", \"-c\", \(yamlString(command))]",
                "          resources:", "            requests:", "              cpu: \"1\"",
                "          volumeMounts:", "            - name: work", "              mountPath: /work",
                "      volumes:", "        - name: work", "          persistentVolumeClaim:", "            claimName: smartserve-work"]
            return lines.joined(separator: "\n") + "\n"
        }
        let submit = """
        #!/bin/sh
        # Runs the shard job, waits for it, then the merge.
        set -e
        cd "$(dirname "$0")"
        kubectl apply -f sweep-job.yaml
        kubectl wait --for=condition=complete --timeout=168h job/smartserve-sweep
        kubectl apply -f merge-job.yaml

        """
        return [("sweep-job.yaml", job("smartserve-sweep", "mkdir -p \(q(shardsDir)) && " + run, indexed: true), false),
                ("merge-job.yaml", job("smartserve-merge", mergeRun, indexed: false), false),
                ("submit.sh", submit, true)]
    }
}

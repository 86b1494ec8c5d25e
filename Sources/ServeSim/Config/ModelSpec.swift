import Foundation
import Workload

/// A transformer's shape, as HuggingFace `config.json` describes it.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Dense FFN width (per expert width lives in `expertFFN`).
    public var ffn: Int
    public var vocab: Int
    /// Gated MLPs (Llama, Qwen, Mistral) have three FFN matrices; plain ones (OPT) two.
    public var gatedMLP: Bool
    /// Mixture of experts: number of routed experts (0 for dense), experts per token and their width.
    public var experts: Int
    public var expertsPerToken: Int
    public var expertFFN: Int
    /// Bytes per weight and KV element (2 for bf16/fp16).
    public var dtypeBytes: Int
    public var maxPositions: Int
    public var tiedEmbeddings: Bool

    public init(name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int? = nil,
                ffn: Int, vocab: Int, gatedMLP: Bool = true, experts: Int = 0, expertsPerToken: Int = 0,
                expertFFN: Int = 0, dtypeBytes: Int = 2, maxPositions: Int = 131_072, tiedEmbeddings: Bool = false) {
        self.name = name
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? hidden / heads
        self.ffn = ffn
        self.vocab = vocab
        self.gatedMLP = gatedMLP
        self.experts = experts
        self.expertsPerToken = expertsPerToken
        self.expertFFN = expertFFN
        self.dtypeBytes = dtypeBytes
        self.maxPositions = maxPositions
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var isMoE: Bool { experts > 0 }
    var mlpMatrices: Int { gatedMLP ? 3 : 2 }

    /// Attention weights per layer: Q, K, V and output projections.
    public var attentionParamsPerLayer: Int { hidden * (heads + 2 * kvHeads) * headDim + heads * headDim * hidden }

    /// FFN weights per layer (all experts for MoE, plus the router).
    public var mlpParamsPerLayer: Int {
        isMoE ? experts * mlpMatrices * hidden * expertFFN + hidden * experts : mlpMatrices * hidden * ffn
    }

    public var parameterCount: Int {
        let perLayer = attentionParamsPerLayer + mlpParamsPerLayer + 2 * hidden
        return layers * perLayer + vocab * hidden * (tiedEmbeddings ? 1 : 2) + hidden
    }

    public var weightBytes: Double { Double(parameterCount * dtypeBytes) }

    /// Bytes of the routed experts alone (what expert parallelism shards).
    public var expertWeightBytes: Double {
        isMoE ? Double(layers * experts * mlpMatrices * hidden * expertFFN * dtypeBytes) : 0
    }

    /// KV cache bytes per token for the whole model: 2 (K and V) × layers × kv heads × head dim × dtype.
    public var kvBytesPerToken: Int { 2 * layers * kvHeads * headDim * dtypeBytes }

    public func validate() throws {
        for (k, v) in [("num_hidden_layers", layers), ("hidden_size", hidden), ("num_attention_heads", heads),
                       ("num_key_value_heads", kvHeads), ("head_dim", headDim), ("vocab_size", vocab)] where v <= 0 {
            throw ConfigError("model '\(name)': \(k) must be positive, got \(v)")
        }
        if isMoE && (expertsPerToken <= 0 || expertsPerToken > experts || expertFFN <= 0) {
            throw ConfigError("model '\(name)': MoE needs 0 < num_experts_per_tok (\(expertsPerToken)) ≤ experts (\(experts)) and an expert width (\(expertFFN))")
        }
        if !isMoE && ffn <= 0 { throw ConfigError("model '\(name)': intermediate_size must be positive, got \(ffn)") }
        if heads % kvHeads != 0 { throw ConfigError("model '\(name)': \(heads) attention heads are not a multiple of \(kvHeads) KV heads") }
    }
}

/// Reference §6 under HuggingFace names.
public enum ModelCatalog {
    public static let entries: [ModelSpec] = [
        ModelSpec(name: "meta-llama/Llama-3.1-8B-Instruct", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128_256),
        ModelSpec(name: "meta-llama/Llama-3.1-8B", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128_256),
        ModelSpec(name: "meta-llama/Llama-3.1-70B-Instruct", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 128_256),
        ModelSpec(name: "meta-llama/Llama-3.1-70B", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 128_256),
        ModelSpec(name: "meta-llama/Llama-2-7b-hf", layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000, maxPositions: 4096),
        ModelSpec(name: "meta-llama/Llama-2-70b-hf", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 32000, maxPositions: 4096),
        ModelSpec(name: "mistralai/Mistral-7B-v0.1", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 32000, maxPositions: 32768),
        ModelSpec(name: "Qwen/Qwen2.5-7B", layers: 28, hidden: 3584, heads: 28, kvHeads: 4, ffn: 18944, vocab: 152_064, maxPositions: 32768),
        ModelSpec(name: "Qwen/Qwen3-32B", layers: 64, hidden: 5120, heads: 64, kvHeads: 8, headDim: 128, ffn: 25600, vocab: 151_936, maxPositions: 40960),
        ModelSpec(name: "Qwen/Qwen3-30B-A3B", layers: 48, hidden: 2048, heads: 32, kvHeads: 4, headDim: 128, ffn: 6144, vocab: 151_936,
                  experts: 128, expertsPerToken: 8, expertFFN: 768, maxPositions: 40960),
        ModelSpec(name: "mistralai/Mixtral-8x7B-v0.1", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 32000,
                  experts: 8, expertsPerToken: 2, expertFFN: 14336, maxPositions: 32768),
        ModelSpec(name: "facebook/opt-6.7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 16384, vocab: 50272,
                  gatedMLP: false, maxPositions: 2048),
    ]

    public static var names: [String] { entries.map(\.name) }

    /// The model's identity for matching: no organisation, no "meta-" prefix, and none of the
    /// suffixes that do not change the shape: fine-tuning (-instruct, -chat, -hf, -it, -base),
    /// dates and versions (-2507, -20240229, -v0.1) and quantisation tags (-fp8, -awq, -gptq),
    /// in any order and number.
    static func normalised(_ name: String) -> String {
        var n = name.lowercased().split(separator: "/").last.map(String.init) ?? name.lowercased()
        if n.hasPrefix("meta-") { n.removeFirst(5) }
        let words: Set<String> = ["instruct", "chat", "hf", "it", "base", "fp8", "awq", "gptq", "bf16", "fp16"]
        func isVersion(_ w: Substring) -> Bool {
            if w.allSatisfy(\.isNumber) && w.count >= 4 { return true }           // dates: 2507, 20240229
            if w.first == "v", w.count > 1, w.dropFirst().allSatisfy({ $0.isNumber || $0 == "." }) { return true }
            return false
        }
        while let dash = n.lastIndex(of: "-") {
            let tail = n[n.index(after: dash)...]
            guard words.contains(String(tail)) || isVersion(tail) else { break }
            n = String(n[..<dash])
        }
        return n
    }

    /// Whether two names denote the same shape (the same model up to fine-tuning, date or organisation).
    public static func sameShapeName(_ a: String, _ b: String) -> Bool { normalised(a) == normalised(b) }

    /// A catalog name (case-insensitive; the part after the organisation also works, as does
    /// LLMServingSim's gpt3-style lowercase) or a HuggingFace config.json path.
    public static func resolve(_ nameOrPath: String) throws -> ModelSpec {
        let lower = nameOrPath.lowercased()
        if let m = entries.first(where: { $0.name.lowercased() == lower || $0.name.lowercased().split(separator: "/").last.map(String.init) == lower }) {
            return m
        }
        let key = normalised(nameOrPath)
        if let m = entries.first(where: { normalised($0.name) == key }) {
            var found = m
            found.name = nameOrPath.contains("/") && !nameOrPath.hasSuffix(".json") ? nameOrPath : m.name
            return found
        }
        if nameOrPath.hasSuffix(".json") || FileManager.default.fileExists(atPath: nameOrPath) {
            var path = nameOrPath
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { path += "/config.json" }
            return try HuggingFaceConfig.load(path)
        }
        // Suggest the names holding every word of what was typed ("llama-70b" → Llama-3.1-70B).
        let words = nameOrPath.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let close = words.isEmpty ? [] : names.filter { n in words.allSatisfy { n.lowercased().contains($0) } }
        throw ConfigError("unknown model '\(nameOrPath)'\(close.isEmpty ? "" : " (did you mean \(close.joined(separator: " or "))?)"); known: \(names.joined(separator: ", ")), or a HuggingFace config.json path")
    }
}

/// Reads the fields of a HuggingFace `config.json` that the latency model needs.
public enum HuggingFaceConfig {
    public static func load(_ path: String) throws -> ModelSpec {
        guard let data = ConfigFile.read(path) else {
            throw ConfigError("model config \(path): cannot read it (expected a regular JSON file under 16 MB)")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigError("model config \(path): expected a JSON object (a HuggingFace config.json)")
        }
        return try parse(obj, source: path, name: URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent)
    }

    /// A config already read (a file's object, or one embedded in a measurement's meta.json);
    /// `source` names it in errors, `name` is used when it carries no `_name_or_path`.
    public static func parse(_ obj: [String: Any], source path: String, name fallbackName: String) throws -> ModelSpec {
        // Multimodal configs nest the language model.
        let c = (obj["text_config"] as? [String: Any]) ?? obj
        func int(_ key: String) -> Int? { (c[key] as? NSNumber)?.intValue }
        func need(_ key: String) throws -> Int {
            guard let v = int(key) else { throw ConfigError("model config \(path): missing integer key '\(key)'") }
            return v
        }
        let name = (obj["_name_or_path"] as? String) ?? fallbackName
        let hidden = try need("hidden_size")
        let heads = try need("num_attention_heads")
        let experts = int("num_local_experts") ?? int("num_experts") ?? int("n_routed_experts") ?? 0
        let act = (c["hidden_act"] as? String) ?? (c["activation_function"] as? String) ?? "silu"
        let modelType = (c["model_type"] as? String) ?? ""
        let dtype = (c["torch_dtype"] as? String) ?? (c["dtype"] as? String) ?? "bfloat16"
        let bytes: Int
        switch dtype {
        case "float32": bytes = 4
        case "float8_e4m3fn", "float8", "fp8", "int8": bytes = 1
        default: bytes = 2
        }
        let ffn = int("intermediate_size") ?? int("ffn_dim") ?? 0
        let spec = ModelSpec(
            name: name,
            layers: try int("num_hidden_layers") ?? need("n_layer"),
            hidden: hidden,
            heads: heads,
            kvHeads: int("num_key_value_heads") ?? heads,
            headDim: int("head_dim") ?? hidden / heads,
            ffn: ffn,
            vocab: try need("vocab_size"),
            gatedMLP: !(modelType == "opt" || act == "relu" || act == "gelu_new" && modelType.hasPrefix("gpt")),
            experts: experts,
            expertsPerToken: experts > 0 ? (int("num_experts_per_tok") ?? int("top_k") ?? 2) : 0,
            expertFFN: experts > 0 ? (int("moe_intermediate_size") ?? ffn) : 0,
            dtypeBytes: bytes,
            maxPositions: int("max_position_embeddings") ?? 4096,
            tiedEmbeddings: (c["tie_word_embeddings"] as? Bool) ?? false)
        try spec.validate()
        return spec
    }
}

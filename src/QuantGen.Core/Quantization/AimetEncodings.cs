using System.Globalization;
using System.Text.Json;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// AIMET's encodings JSON (format versions 0.6.1, 1.0.0 and 2.0.0 as AIMET's "Encoding Format Specification"
/// documents them) read into a <see cref="FixedQuantization"/>: activation encodings become fixed u8 grids for the
/// tensors they name, parameter encodings fixed per-channel (or per-tensor) symmetric weight scales for the
/// initializers they name. AIMET's grid is real = scale · (q + offset), q in [0, 2^bw − 1]: an activation's zero point
/// is −offset; a symmetric parameter's offset is −2^(bw−1) (signed integers, zero point 0).
/// </summary>
internal static class AimetEncodings
{
    public static FixedQuantization Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelException(ErrorCodes.FileNotFound, $"Encodings file '{path}' cannot be read: {e.Message}", path);
        }
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(path, "the file is not a JSON object");
            var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            var result = new FixedQuantization { Exact = false, Origin = $"encodings file '{Path.GetFileName(path)}'" };
            switch (version)
            {
                case "0.6.1":
                    ReadLegacy(root, result, path);
                    break;
                case "1.0.0":
                    ReadV1(root, result, path);
                    break;
                case "2.0.0":
                    ReadV2(root, result, path);
                    break;
                default:
                    throw Bad(path, $"version '{version}' is not one QuantGen reads (0.6.1, 1.0.0, 2.0.0)");
            }
            return result;
        }
        catch (JsonException e)
        {
            throw Bad(path, $"not valid JSON ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            throw Bad(path, $"a field has the wrong JSON type ({e.Message})");
        }
        catch (FormatException e)
        {
            throw Bad(path, $"a number is out of range ({e.Message})");
        }
    }

    /// <summary>Every name must be a value of the model: a tensor for activations, an initializer for parameters (QG0085 lists those that are not).</summary>
    public static void CheckNames(FixedQuantization encodings, Graph graph, string encodingsPath, string? modelPath)
    {
        var unknown = encodings.Grids.Keys.Where(n => !graph.ValueInfos.ContainsKey(n) || graph.Initializers.ContainsKey(n)).Select(n => $"activation '{n}'")
            .Concat(encodings.Weights.Keys.Where(n => !graph.Initializers.ContainsKey(n)).Select(n => $"parameter '{n}'"))
            .ToList();
        if (unknown.Count > 0)
            throw new ModelException(ErrorCodes.UnknownEncodingNames,
                $"Encodings file '{encodingsPath}' names {unknown.Count} tensor{(unknown.Count == 1 ? "" : "s")} the model does not have: {string.Join(", ", unknown)}. " +
                "Activation names are the ONNX model's value names (node outputs, graph inputs), parameter names its initializers'.", modelPath);
    }

    /// <summary>0.6.1: {"activation_encodings": {name: [Encoding]}, "param_encodings": {name: [Encoding per channel]}}.</summary>
    private static void ReadLegacy(JsonElement root, FixedQuantization result, string path)
    {
        foreach (var (name, list) in Entries(root, "activation_encodings", path))
        {
            var e = Single(list, name, path);
            Activation(result, name, Int(e, "bitwidth", name, path), Float(e, "scale", name, path), Long(e, "offset", name, path), Sym(e, "is_symmetric"), Dtype(e, "dtype"), path);
        }
        foreach (var (name, list) in Entries(root, "param_encodings", path))
        {
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0) throw Bad(path, $"parameter '{name}': expected a list of encodings");
            var items = list.EnumerateArray().ToList();
            Param(result, name, Int(items[0], "bitwidth", name, path), items.Select(i => Float(i, "scale", name, path)).ToArray(),
                items.Select(i => Long(i, "offset", name, path)).ToArray(), Dtype(items[0], "dtype"), path);
        }
    }

    /// <summary>1.0.0: {"activation_encodings": [{name, dtype, enc_type, bw, is_sym, scale: [..], offset: [..]}], "param_encodings": [...]}.</summary>
    private static void ReadV1(JsonElement root, FixedQuantization result, string path)
    {
        foreach (var e in List(root, "activation_encodings", path))
        {
            var name = Name(e, "name", path);
            var scales = Floats(e, "scale", name, path);
            var offsets = Longs(e, "offset", name, path);
            if (scales.Length != 1 || offsets.Length != 1) throw NotExpressible(path, name, $"{scales.Length} activation scales (enc_type {Text(e, "enc_type")}): QuantGen's activations have one scale per tensor");
            Activation(result, name, Int(e, "bw", name, path), scales[0], offsets[0], Sym(e, "is_sym"), Dtype(e, "dtype"), path);
        }
        foreach (var e in List(root, "param_encodings", path))
        {
            var name = Name(e, "name", path);
            if (Text(e, "enc_type") is "PER_BLOCK" or "LPBQ") throw NotExpressible(path, name, $"enc_type {Text(e, "enc_type")}: QuantGen's weights have one scale per output channel");
            Param(result, name, Int(e, "bw", name, path), Floats(e, "scale", name, path), Longs(e, "offset", name, path), Dtype(e, "dtype"), path);
        }
    }

    /// <summary>2.0.0: {"encodings": [{name, output_dtype, y_scale, y_zero_point, axis, block_size}]}, QuantizeLinear's fields.</summary>
    private static void ReadV2(JsonElement root, FixedQuantization result, string path)
    {
        var parameters = new List<JsonElement>();
        foreach (var e in List(root, "encodings", path))
        {
            var name = Name(e, "name", path);
            if (e.TryGetProperty("block_size", out _)) throw NotExpressible(path, name, "block_size (blocked quantization): QuantGen's weights have one scale per output channel");
            var dtype = Name(e, "output_dtype", path);
            var scales = e.TryGetProperty("y_scale", out var s) && s.ValueKind == JsonValueKind.Array ? Floats(e, "y_scale", name, path) : [Float(e, "y_scale", name, path)];
            long[] zeros = !e.TryGetProperty("y_zero_point", out var z) ? new long[scales.Length]
                : z.ValueKind == JsonValueKind.Array ? Longs(e, "y_zero_point", name, path) : [Long(e, "y_zero_point", name, path)];
            if (zeros.Length != scales.Length) throw Bad(path, $"'{name}': {scales.Length} scales and {zeros.Length} zero points");
            bool axis = e.TryGetProperty("axis", out _);
            switch (dtype)
            {
                case "uint8" when !axis && scales.Length == 1:
                    // An activation (2.0.0 does not say which is which: 8-bit unsigned per-tensor grids are activations, int8 parameters).
                    Activation(result, name, 8, scales[0], -zeros[0], false, "int", path);
                    break;
                case "int8" or "int4" or "int2" or "uint8" or "uint4":
                {
                    int bits = dtype.EndsWith('8') ? 8 : dtype.EndsWith('4') ? 4 : 2;
                    if (dtype[0] == 'u') throw NotExpressible(path, name, $"output_dtype {dtype} per axis: QuantGen's weights are signed with zero point 0");
                    Param(result, name, bits, scales, zeros.Select(zp => zp - (1L << (bits - 1))).ToArray(), "int", path);
                    break;
                }
                default:
                    throw NotExpressible(path, name, $"output_dtype {dtype}: QuantGen imports uint8 activations and int8/int4/int2 weights");
            }
        }
    }

    private static void Activation(FixedQuantization result, string name, int bits, float scale, long offset, bool symmetric, string dtype, string path)
    {
        if (dtype != "int") throw NotExpressible(path, name, $"dtype {dtype}: QuantGen's activations are integers");
        if (bits != 8) throw NotExpressible(path, name, $"a {bits}-bit activation encoding: QuantGen's activations are 8-bit u8 here (its 16-bit grid is symmetric and calibrated)");
        if (!(scale > 0) || float.IsInfinity(scale)) throw Bad(path, $"activation '{name}': scale {scale.ToString("R", CultureInfo.InvariantCulture)} must be positive and finite");
        long zero = -offset;
        if (zero < 0 || zero > 255) throw Bad(path, $"activation '{name}': offset {offset} puts the zero point outside [0, 255]{(symmetric ? " (a symmetric signed activation encoding has offset −128: QuantGen stores it as u8 with zero point 128)" : "")}");
        result.Grids[name] = (new ActivationGrid(scale, (int)zero, 0, 255), $"encoding '{name}'");
    }

    private static void Param(FixedQuantization result, string name, int bits, float[] scales, long[] offsets, string dtype, string path)
    {
        if (dtype != "int") throw NotExpressible(path, name, $"dtype {dtype}: QuantGen's weights are integers");
        if (bits < 2 || bits > 8) throw NotExpressible(path, name, $"a {bits}-bit parameter encoding: QuantGen stores weights of 2 to 8 bits");
        if (scales.Length != offsets.Length) throw Bad(path, $"parameter '{name}': {scales.Length} scales and {offsets.Length} offsets");
        for (int i = 0; i < scales.Length; i++)
        {
            if (!(scales[i] > 0) || float.IsInfinity(scales[i])) throw Bad(path, $"parameter '{name}': scale {i} is {scales[i].ToString("R", CultureInfo.InvariantCulture)}; it must be positive and finite");
            if (offsets[i] != -(1L << (bits - 1)))
                throw NotExpressible(path, name, $"offset {offsets[i]} of channel {i} is not the symmetric {-(1L << (bits - 1))}: QuantGen's weights have zero point 0 (asymmetric parameter encodings are not expressible)");
        }
        // Per-channel encodings are along the output channels (AIMET's convention for Conv and Linear weights);
        // FixedQuantizationPass checks the count against the layer.
        result.Weights[name] = new FixedWeights(scales, scales.Length == 1 ? -1 : int.MinValue, bits, $"encoding '{name}'");
    }

    private static IEnumerable<(string Name, JsonElement Value)> Entries(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var obj)) yield break;
        if (obj.ValueKind != JsonValueKind.Object) throw Bad(path, $"'{key}' must be an object of tensor names");
        foreach (var p in obj.EnumerateObject()) yield return (p.Name, p.Value);
    }

    private static List<JsonElement> List(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var list)) return [];
        if (list.ValueKind != JsonValueKind.Array) throw Bad(path, $"'{key}' must be a list");
        return list.EnumerateArray().ToList();
    }

    private static JsonElement Single(JsonElement list, string name, string path)
    {
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() != 1)
            throw NotExpressible(path, name, "an activation needs exactly one encoding (QuantGen's activations have one scale per tensor)");
        return list[0];
    }

    private static string Name(JsonElement e, string key, string path) =>
        e.TryGetProperty(key, out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw Bad(path, $"an entry has no '{key}'");

    private static string? Text(JsonElement e, string key) => e.TryGetProperty(key, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static string Dtype(JsonElement e, string key) => (Text(e, key) ?? "int").ToLowerInvariant();

    private static bool Sym(JsonElement e, string key) => e.TryGetProperty(key, out var s) &&
        (s.ValueKind == JsonValueKind.True || (s.ValueKind == JsonValueKind.String && string.Equals(s.GetString(), "true", StringComparison.OrdinalIgnoreCase)));

    private static JsonElement Field(JsonElement e, string key, string name, string path) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var f) ? f : throw Bad(path, $"'{name}': the encoding has no '{key}'");

    private static int Int(JsonElement e, string key, string name, string path) => Field(e, key, name, path).GetInt32();

    private static long Long(JsonElement e, string key, string name, string path)
    {
        var f = Field(e, key, name, path);
        return f.TryGetInt64(out var l) ? l : checked((long)f.GetDouble());
    }

    private static float Float(JsonElement e, string key, string name, string path) => (float)Field(e, key, name, path).GetDouble();

    private static float[] Floats(JsonElement e, string key, string name, string path) => Field(e, key, name, path).EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

    private static long[] Longs(JsonElement e, string key, string name, string path) => Field(e, key, name, path).EnumerateArray().Select(x => x.TryGetInt64(out var l) ? l : checked((long)x.GetDouble())).ToArray();

    private static ModelException Bad(string path, string what) => new(ErrorCodes.BadEncodings, $"Encodings file '{path}': {what}.", path);

    private static ModelException NotExpressible(string path, string name, string what) =>
        new(ErrorCodes.QdqNotExpressible, $"Encodings file '{path}', '{name}': {what}.", path);
}

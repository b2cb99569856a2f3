extern alias generator;

using System.Buffers.Binary;
using Microsoft.CodeAnalysis;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using BlobEmbedding = generator::QuantGen.Generator.BlobEmbedding;
using GeneratorArtifactText = generator::QuantGen.Core.Artifact.ArtifactText;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Constant data survives the trip into C# exactly, on both sides of the 4096-byte switch from array initializers to
/// string literals packing two bytes per char.
/// </summary>
public sealed class BlobEmbeddingTests
{
    private const string Namespace = "Demo.Models";

    [Fact]
    public void PackedLiteralWritesPrintableAsciiAsItselfAndEscapesEverythingElse()
    {
        byte[] bytes =
        [
            0x41, 0x00, // 'A'
            0x22, 0x00, // '"'
            0x5C, 0x00, // '\'
            0x75, 0x00, // 'u' right after a backslash
            0x00, 0x00, // U+0000
            0x00, 0xD8, // lone high surrogate
            0x7E, 0x00, // '~', the last printable
            0x00, 0xDC, // lone low surrogate
            0x3D, 0xD8, 0x00, 0xDE, // a valid pair
            0x7F, 0x00, // DEL
            0x0A, 0x00, // LF
            0x28, 0x20, // U+2028, a line separator to C#
            0x20, 0x00, // ' ', the first printable
            0x41, 0x42, // U+4241: two printable bytes are still one non-ASCII char
            0xFF, // odd length: padded with 0x00
        ];
        var expected = "\"A\\\"\\\\u\\u0000\\uD800~\\uDC00\\uD83D\\uDE00\\u007F\\u000A\\u2028 \\u4241\\u00FF\"";
        Assert.Equal(expected, BlobEmbedding.PackedLiteral(bytes));
        Assert.Equal("\"\"", BlobEmbedding.PackedLiteral([]));
    }

    [Fact]
    public void StringHeapBytesCountsOnlyPackedBlobs()
    {
        // ECMA-335 II.24.2.4: compressed length (1, 2 or 4 bytes) + 2 bytes per char + 1 trailing byte. The FullyConnected
        // kernel's weights are 1032 × 4 = 4128 bytes here (its packing pads the rows to a multiple of 8), its int32 bias
        // 4100 and the float32 scales the generator derives from the multipliers and shifts 4100.
        Assert.Equal((2 + 4128 + 1) + 2 * (2 + 4100 + 1), BlobEmbedding.StringHeapBytes(Plan(FullyConnected(m: 1025, k: 4, seed: 1))));
        // Every blob 4096 bytes: all array initializers.
        Assert.Equal(0, BlobEmbedding.StringHeapBytes(Plan(FullyConnected(m: 1024, k: 4, seed: 1))));
    }

    /// <summary>
    /// The count the QG1005 budget uses is what the printed class's string literals take: each packed literal of N bytes
    /// (its <c>.Slice(0, N)</c>) costs its heap entry, read back from the source, for 8-bit weights and for weights
    /// stored 4 bits each (which the count must not price at a byte per weight).
    /// </summary>
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void StringHeapBytesIsWhatThePrintedLiteralsTake(int bits)
    {
        var plan = Plan(FullyConnected(m: 300, k: 96, seed: 3, bits: bits));
        var source = generator::QuantGen.Generator.ModelPrinter.Print(plan);
        long expected = 0;
        int literals = 0;
        foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(source, @"AsSpan\(\s*""(?:[^""\\]|\\.)*""\)\)\.Slice\(0, (\d+)\)"))
        {
            long length = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            long entry = 2 * ((length + 1) / 2) + 1;
            expected += entry + (entry < 0x80 ? 1 : entry < 0x4000 ? 2 : 4);
            literals++;
        }
        // 300 × 96 weights, the rows padded to 304: 29184 bytes at 8 bits, 14592 at 4; the 1200-byte bias and scales
        // stay array initializers.
        Assert.Equal(1, literals);
        Assert.Contains($".Slice(0, {304 * 96 * bits / 8})", source, StringComparison.Ordinal);
        Assert.Equal(expected, BlobEmbedding.StringHeapBytes(plan));
    }

    private static generator::QuantGen.Generator.ModelPlan Plan(QuantizedArtifact artifact) =>
        generator::QuantGen.Generator.ModelPlanner.Plan(GeneratorArtifactText.Read(ArtifactText.Write(artifact)),
            new generator::QuantGen.Generator.EmitPlan(Namespace, "Model", "public sealed partial class"));

    /// <summary>
    /// Packed weights (a multiple of 32 bytes, docs/generator.md "Kernels") of 4096 bytes stay array initializers,
    /// 4128 bytes and more become string literals; int32 blobs switch between 1024 (4096 bytes) and 1025 values. (The
    /// odd-length string case is PackedLiteralWritesPrintableAsciiAsItselfAndEscapesEverythingElse.) The compiled class returns every blob byte for byte
    /// and computes what the integer simulator computes.
    /// </summary>
    [Theory]
    [InlineData(5, 819)]
    [InlineData(4, 1024)]
    [InlineData(17, 241)]
    [InlineData(2, 2049)]
    [InlineData(1024, 3)]
    [InlineData(1025, 3)]
    [InlineData(8, 512)]
    [InlineData(8, 513)]
    public void BlobsOnBothSidesOfTheThresholdRoundTripExactly(int m, int k)
    {
        var artifact = FullyConnected(m, k, seed: m * 7919 + k);
        var path = "/project/obj/quantgen/wide.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, "Wide"));
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe), driver);

        var source = run.GeneratedTrees.Single(t => t.FilePath.EndsWith("Wide.g.cs", StringComparison.Ordinal)).ToString();
        var layer = artifact.Layers.Single(l => l.Kind == LayerKinds.FullyConnected);
        var probe = assembly.GetType("Probe")!;
        // The float32 scales the kernels requantize with: multiplier · 2^−shift, rounded once to float32 (docs/artifact.md).
        var multipliers = layer.GetBlob("multiplier").Values.ToArray();
        var shifts = layer.GetBlob("shift").Values.ToArray();
        var scales = multipliers.Select((v, o) => (float)(v * Math.Pow(2, -shifts[o]))).ToArray();
        foreach (var (key, property, element) in new[] { ("weights", "Weights", "sbyte"), ("bias", "Bias", "byte"), ("scale", "Scale", "byte") })
        {
            var expected = key switch
            {
                "weights" => Packed(layer.GetBlob(key).Values.ToArray(), m, k).Select(v => unchecked((byte)v)).ToArray(),
                "bias" => layer.GetBlob(key).Values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; }).ToArray(),
                _ => scales.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return b; }).ToArray(),
            };
            Assert.Equal(expected, (byte[])probe.GetMethod(property)!.Invoke(null, null)!);
            var declaration = $"private static global::System.ReadOnlySpan<{element}> FullyConnectedFc{property} =>";
            var next = source[(source.IndexOf(declaration, StringComparison.Ordinal) + declaration.Length)..].TrimStart();
            if (expected.Length > 4096)
                Assert.StartsWith($"global::System.Runtime.InteropServices.MemoryMarshal.Cast<char, {element}>", next);
            else
                Assert.StartsWith($"new {element}[]", next);
        }

        var simulator = new IntegerSimulator(artifact);
        var random = new Random(k);
        var runModel = probe.GetMethod("Run")!;
        for (int i = 0; i < 20; i++)
        {
            var input = Enumerable.Range(0, k).Select(_ => (float)random.NextDouble()).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = input })["y"];
            Assert.Equal(expected, (float[])runModel.Invoke(null, [input])!);
        }
    }

    /// <summary>
    /// The weights as the generator embeds them (docs/generator.md, "Kernels"): [KP/4, MP, 4], K rounded up to 4 and M
    /// to 8, zero padded; element (k4, o, j) is w[o, 4·k4 + j].
    /// </summary>
    private static int[] Packed(int[] weights, int m, int k)
    {
        int kp = (k + 3) & ~3, mp = (m + 7) & ~7;
        var packed = new int[kp * mp];
        for (int o = 0; o < m; o++)
            for (int i = 0; i < k; i++)
                packed[((i / 4) * mp + o) * 4 + i % 4] = weights[o * k + i];
        return packed;
    }

    /// <summary>Reads the private blobs through a second part of the generated partial class.</summary>
    private const string Probe = """
        namespace Demo.Models
        {
            partial class Wide
            {
                public static byte[] Weights() => global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(FullyConnectedFcWeights).ToArray();
                public static byte[] Bias() => FullyConnectedFcBias.ToArray();
                public static byte[] Scale() => FullyConnectedFcScale.ToArray();
            }
        }

        public static class Probe
        {
            private static readonly Demo.Models.Wide Model = new();

            public static byte[] Weights() => Demo.Models.Wide.Weights();
            public static byte[] Bias() => Demo.Models.Wide.Bias();
            public static byte[] Scale() => Demo.Models.Wide.Scale();

            public static float[] Run(float[] input)
            {
                var output = new float[Demo.Models.Wide.OutputLength];
                Model.Run(input, output);
                return output;
            }
        }
        """;

    /// <summary>
    /// Bytes that the packing must carry through unchanged: U+0000, quotes, backslashes (one before a 'u'), lone and
    /// paired surrogates, line separators, non-characters; then a seeded random fill.
    /// </summary>
    private static readonly byte[] Awkward =
    [
        0x00, 0x00, 0x22, 0x00, 0x5C, 0x00, 0x75, 0x00, 0x30, 0x00, 0x30, 0x00, 0x34, 0x00, 0x31, 0x00,
        0x00, 0xD8, 0x41, 0x00, 0x00, 0xDC, 0x3D, 0xD8, 0x00, 0xDE, 0xFF, 0xDB, 0xFF, 0xDF, 0xFF, 0xFF,
        0xFE, 0xFF, 0xFF, 0xFE, 0x0D, 0x00, 0x0A, 0x00, 0x85, 0x00, 0x28, 0x20, 0x29, 0x20, 0x7B, 0x00,
        0x22, 0x22, 0x5C, 0x5C, 0x80, 0x00,
    ];

    /// <summary>
    /// A synthetic model: Quantize, one FullyConnected layer [m, k], Dequantize. The weights start with
    /// <see cref="Awkward"/>; the int32 blobs hold valid values whose bytes include surrogates, quotes and backslashes.
    /// </summary>
    /// <summary>
    /// One FullyConnected layer of m × k weights: with <paramref name="bits"/> 8 any int8 (the first ones the byte
    /// patterns a string literal must escape), with 4 on the 4-bit grid [−8, 7], which the generator stores packed.
    /// </summary>
    internal static QuantizedArtifact FullyConnected(int m, int k, int seed, int bits = 8)
    {
        var random = new Random(seed);
        var weights = new int[m * k];
        for (int i = 0; i < weights.Length; i++)
            weights[i] = bits == 4 ? random.Next(-8, 8) : (sbyte)(i < Awkward.Length ? Awkward[i] : random.Next(256));
        if (bits == 8 && weights.Length % 2 == 1) weights[^1] = unchecked((sbyte)0xD8); // the padded last char
        int[] biasPattern = [0x0000D800, 0x0000DC00, 0x005C0022, -0x0000D800, 0x00220000, 0];
        int[] multiplierPattern = [0x4000D800, 0x4000DC00, 0x5C5C2222, 0x7FFFFFFF, 0x40000000, 0x4022005C];
        var bias = new int[m];
        var multiplier = new int[m];
        var shift = new int[m];
        for (int i = 0; i < m; i++)
        {
            bias[i] = i < biasPattern.Length ? biasPattern[i] : random.Next(-1 << 20, 1 << 20);
            multiplier[i] = i < multiplierPattern.Length ? multiplierPattern[i] : random.Next(1 << 30, int.MaxValue);
            shift[i] = random.Next(40, 48);
        }
        var none = EquatableArray<float>.Empty;
        return new QuantizedArtifact(
            QuantizedArtifact.CurrentFormatVersion,
            "wide",
            new([new ArtifactMetadata("source", "Models/wide.onnx")]),
            new([
                new ArtifactTensor("x@f32", ArtifactElementType.F32, new([1, k]), 1f, 0, 0, 0),
                new ArtifactTensor("x", ArtifactElementType.U8, new([1, k]), 1f / 255, 0, 0, 255),
                new ArtifactTensor("y", ArtifactElementType.U8, new([1, m]), 0.1f, 128, 0, 255),
                new ArtifactTensor("y@f32", ArtifactElementType.F32, new([1, m]), 1f, 0, 0, 0),
            ]),
            new([new ArtifactIo("x", "x@f32")]),
            new([new ArtifactIo("y", "y@f32")]),
            new([
                new ArtifactLayer(LayerKinds.Quantize, "quantize", new(["x@f32"]), new(["x"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, ""),
                new ArtifactLayer(LayerKinds.FullyConnected, "fc", new(["x"]), new(["y"]),
                    new([new ArtifactInts("clamp", new([0, 255]))]), EquatableArray<ArtifactFloats>.Empty,
                    new([
                        new ArtifactBlob("weights", BlobType.I8, new([m, k]), new(weights), none),
                        new ArtifactBlob("bias", BlobType.I32, new([m]), new(bias), none),
                        new ArtifactBlob("multiplier", BlobType.I32, new([m]), new(multiplier), none),
                        new ArtifactBlob("shift", BlobType.I32, new([m]), new(shift), none),
                    ]),
                    ""),
                new ArtifactLayer(LayerKinds.Dequantize, "dequantize", new(["y"]), new(["y@f32"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, ""),
            ]));
    }
}

using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The generated kernels on CPUs this machine is not: one assembly compiled here from generated code (the Fashion-MNIST
/// models and PackedKernelTests' random layer shapes) runs in another .NET process (tests/QuantGen.KernelHost) on Arm,
/// for real, under qemu-aarch64 (a CPU with the dot-product extension: the udot path, DotPackedArmDp; and one without:
/// the scalar dot products beside the portable Vector128 paths), and on this x86 machine with instruction sets switched
/// off the way the runtime allows (DOTNET_Enable*=0: the AVX2 + AVX-VNNI paths of desktop CPUs without AVX-512, AVX-512
/// without VNNI, AVX2 alone, and a CPU without AVX2). Each runs with SIMD on and off, and every
/// output must equal, bit for bit, what the integer simulator computes here. Emulation says nothing about speed.
/// </summary>
public sealed class OtherCpuTests(OtherCpuTests.CompiledCases cases, ITestOutputHelper output) : IClassFixture<OtherCpuTests.CompiledCases>
{
    [Fact]
    public void ArmWithDotProductMatchesTheSimulatorBitForBit()
    {
        // qemu's "max" CPU has every extension qemu implements, the Armv8.2 dot product among them.
        var run = KernelHost.RunOnArm(cases.AssemblyPath, "max");
        Assert.Equal("Arm64", run.Architecture);
        // Without Dp the dot products would take the scalar loop and this test would prove nothing about udot.
        Assert.True(run.Features.Contains("Dp"), "the emulated CPU does not report Dp: the udot path did not run");
        Assert.Contains("AdvSimd.Arm64", run.Features);
        Check(run, "-cpu max (emulated)");
    }

    [Fact]
    public void ArmWithoutDotProductFallsBackAndMatchesTheSimulator()
    {
        // Cortex-A57 is Armv8.0: AdvSimd (Vector128) but no dot product.
        var run = KernelHost.RunOnArm(cases.AssemblyPath, "cortex-a57");
        Assert.Equal("Arm64", run.Architecture);
        Assert.False(run.Features.Contains("Dp"), "cortex-a57 reports Dp: the fallback was not exercised");
        Assert.Contains("AdvSimd.Arm64", run.Features);
        Check(run, "-cpu cortex-a57 (emulated)");
    }

    [Fact]
    public void ThisCpuAsItIsMatchesTheSimulator()
    {
        // Whatever this machine has, nothing switched off; the output names the instruction sets the other facts and
        // this one could not exercise here (machines differ from session to session: a path this CPU lacks is tested
        // where CI's CPU has it, and said so, never assumed).
        var run = KernelHost.RunHere(cases.AssemblyPath, new Dictionary<string, string>());
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString(), run.Architecture);
        var missing = new[] { "Avx2", "AvxVnni", "Avx512F", "Avx512Vbmi" }.Where(f => !run.Features.Contains(f)).ToArray();
        Check(run, $"this CPU as it is ({string.Join(",", run.Features)})"
            + (missing.Length > 0 ? $"; not exercised on this host: the {string.Join(", ", missing)} paths" : ""));
    }

    [Fact]
    public void X86WithoutAvx512MatchesTheSimulator()
    {
        // Desktop CPUs without AVX-512 (Alder Lake and later with AVX-VNNI, Zen 2/3 and Skylake client without it):
        // 8-channel conv blocks, Requantize8Avx2, DepthwiseNhwcAvx2. The runtime is told to ignore AVX-512; whether the
        // AVX-VNNI paths ran depends on this CPU, and the output says which.
        var run = KernelHost.RunHere(cases.AssemblyPath, new Dictionary<string, string> { ["DOTNET_EnableAVX512"] = "0" });
        Assert.Equal("X64", run.Architecture);
        Assert.False(run.Features.Contains("Avx512F"), "AVX-512 is still reported: the AVX2 paths did not run");
        Assert.True(run.Features.Contains("Avx2"), $"AVX2 is not reported ({string.Join(",", run.Features)}): the AVX2 paths did not run");
        Check(run, $"x64, DOTNET_EnableAVX512=0 ({(run.Features.Contains("AvxVnni") ? "with" : "without")} AVX-VNNI on this CPU)");
    }

    [Fact]
    public void X86WithoutAvxVnniMatchesTheSimulator()
    {
        // Any x86 CPU without VNNI (AVX2 Zen 1-3, Skylake, and AVX-512 CPUs before Ice Lake, or Zen 4 as .NET 10
        // sees it): on an AVX-512 host ConvBlockAvx512 and DotPackedAvx512 (int16 vpmaddwd in 512-bit vectors), on an
        // AVX2 one ConvRowsAvx2's vpmaddubsw forms and the vpmaddwd gather path. Runs on every x86 host and says which
        // sets it saw; on a host without AVX2 it checks the Vector128 paths instead.
        var run = KernelHost.RunHere(cases.AssemblyPath, new Dictionary<string, string> { ["DOTNET_EnableAVXVNNI"] = "0" });
        Assert.Equal("X64", run.Architecture);
        Assert.False(run.Features.Contains("AvxVnni"), $"AVX-VNNI is still reported ({string.Join(",", run.Features)})");
        output.WriteLine($"x64, DOTNET_EnableAVXVNNI=0: the host saw {string.Join(",", run.Features)}"
            + (run.Features.Contains("Avx2") ? "" : " (no AVX2: the AVX2 paths did not run)"));
        Check(run, "x64, DOTNET_EnableAVXVNNI=0");
    }

    [Fact]
    public void X86WithAvx2AloneMatchesTheSimulator()
    {
        // AVX2 without VNNI and without AVX-512 (Zen 2/3, Skylake client): ConvRowsAvx2's PairsFit and SignSplit forms,
        // DotPackedAvx2, Requantize8Avx2, DepthwiseNhwcAvx2. On a host with AVX-512 the fact above takes the 512-bit
        // paths instead, so this is the only run of these there.
        var run = KernelHost.RunHere(cases.AssemblyPath, new Dictionary<string, string> { ["DOTNET_EnableAVXVNNI"] = "0", ["DOTNET_EnableAVX512"] = "0" });
        Assert.Equal("X64", run.Architecture);
        Assert.False(run.Features.Contains("AvxVnni") || run.Features.Contains("Avx512F"), $"AVX-VNNI or AVX-512 is still reported ({string.Join(",", run.Features)})");
        Assert.True(run.Features.Contains("Avx2"), $"AVX2 is not reported ({string.Join(",", run.Features)}): the AVX2 paths did not run");
        Check(run, "x64, DOTNET_EnableAVXVNNI=0 DOTNET_EnableAVX512=0 (AVX2 alone)");
    }

    [Fact]
    public void X86WithoutAvx2MatchesTheSimulator()
    {
        // An x86-64 CPU with SSE4 only: the Vector128 paths and the scalar loops.
        var run = KernelHost.RunHere(cases.AssemblyPath, new Dictionary<string, string> { ["DOTNET_EnableAVX2"] = "0" });
        Assert.Equal("X64", run.Architecture);
        Assert.False(run.Features.Contains("Avx2") || run.Features.Contains("AvxVnni") || run.Features.Contains("Avx512F"),
            $"AVX2 or later is still reported ({string.Join(",", run.Features)})");
        Check(run, "x64, DOTNET_EnableAVX2=0");
    }

    private void Check(KernelHost.Result run, string description)
    {
        cases.AssertMatch(run.Lines);
        output.WriteLine($"{description}: {cases.Count} outputs bit-identical to the simulator; run {run.Elapsed.TotalSeconds:F1} s"
            + $" (cases prepared here in {cases.PreparationTime.TotalSeconds:F1} s)");
    }

    /// <summary>
    /// The models, their inputs and the simulator's outputs for them, and the assembly holding all the generated
    /// classes plus a driver that runs each on each input with QuantGenKernels.SimdEnabled true, then false.
    /// </summary>
    public sealed class CompiledCases
    {
        /// <summary>Fashion-MNIST test images each Fashion model runs on.</summary>
        private const int Images = 8;

        /// <summary>Random inputs each random layer runs on.</summary>
        private const int Inputs = 3;

        private static readonly string[] Paths = ["simd", "scalar"];

        private readonly List<(string ClassName, string Description, float[][] Inputs, float[][] Expected)> _models = [];

        public string AssemblyPath { get; }

        /// <summary>How many output values one run compares.</summary>
        public int Count => Paths.Length * _models.Sum(m => m.Expected.Sum(e => e.Length));

        /// <summary>What preparing the cases here took (quantizing, simulating, generating and compiling), for the test's output.</summary>
        public TimeSpan PreparationTime { get; }

        public CompiledCases()
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (images, _) = FashionMnist.TestSet;
            var fashionInputs = Enumerable.Range(0, Images).Select(i => images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray()).ToArray();
            var artifacts = new List<(string ClassName, string Text)>();
            foreach (var (name, className) in new[] { ("fashion_mlp", "FashionMlp"), ("fashion_cnn", "FashionCnn"), ("fashion_mobilenet", "FashionMobilenet") })
            {
                var artifact = GeneratedCodeTests.QuantizeFashion(name);
                Add(artifacts, className, name, ArtifactText.Write(artifact), "image", "logits", fashionInputs);
            }
            // Packed sub-8-bit weights read in registers (4-bit nibbles, 2-bit crumbs): on Arm the dot products' udot
            // path loads them through the same IWeightBlocks forms as x86 (docs/generator.md, "Packed sub-8-bit weights").
            foreach (var (name, className, bits) in new[] { ("fashion_cnn", "FashionCnnW4", 4), ("fashion_mobilenet", "FashionMobilenetW2", 2) })
            {
                var artifact = GeneratedCodeTests.QuantizeFashion(name, new QuantGen.Core.Quantization.QuantizationOptions
                {
                    WeightBits = bits,
                    Algorithms = QuantGen.Core.Quantization.QuantizationAlgorithms.Cle | QuantGen.Core.Quantization.QuantizationAlgorithms.BiasAbsorption,
                });
                Add(artifacts, className, $"{name} W{bits} packed", ArtifactText.Write(artifact), "image", "logits", fashionInputs);
            }
            foreach (var (c, description) in RandomCases())
                Add(artifacts, c.Name, description, c.Text, "x", "y", c.Inputs);
            AssemblyPath = Compile(artifacts);
            PreparationTime = clock.Elapsed;
        }

        private void Add(List<(string, string)> artifacts, string className, string description, string text, string input, string outputName, float[][] inputs)
        {
            var simulator = new IntegerSimulator(ArtifactText.Read(text));
            var expected = inputs.Select(x => simulator.Run(new Dictionary<string, float[]> { [input] = x })[outputName]).ToArray();
            // Not a degenerate case: the outputs take many values, not only the clamp bounds.
            int distinct = expected.SelectMany(e => e).Distinct().Count();
            Assert.True(distinct > Math.Min(8, expected[0].Length / 2), $"{description}: only {distinct} distinct outputs");
            artifacts.Add((className, text));
            _models.Add((className, description, inputs, expected));
        }

        /// <summary>
        /// Every shape of PackedKernelTests' theories (read from their InlineData, so a case added there runs here too),
        /// each Conv in the generator's layout and forced to NCHW, except the layers of ≥ 2^24 multiply-accumulates:
        /// those exist for the thread split, which is not Arm code, and would cost seconds each under emulation.
        /// </summary>
        private static IEnumerable<(RandomLayerArtifacts.Case Case, string Description)> RandomCases()
        {
            foreach (var (i, r) in Rows(nameof(PackedKernelTests.ConvSimdAndScalarMatchTheSimulator),
                "c", "h", "w", "m", "kh", "kw", "sh", "sw", "pt", "pl", "pb", "pr", "dh", "dw", "g", "leaky"))
            {
                int[] v = r[..15].Select(o => (int)o).ToArray();
                int oh = (v[1] + v[8] + v[10] - v[12] * (v[4] - 1) - 1) / v[6] + 1, ow = (v[2] + v[9] + v[11] - v[13] * (v[5] - 1) - 1) / v[7] + 1;
                if ((long)v[3] * oh * ow * (v[0] / v[14]) * v[4] * v[5] >= 1 << 24) continue;
                foreach (var nchw in new[] { false, true })
                    yield return (RandomLayerArtifacts.Conv($"Conv{i}{(nchw ? "Nchw" : "")}", Inputs,
                        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], (bool)r[15], nchw), Describe("Conv", r, nchw));
            }
            foreach (var (i, r) in Rows(nameof(PackedKernelTests.ConvThenMaxPoolMatchesTheSimulator), "c", "h", "w", "m", "k", "stride", "pad", "leaky", "negativeMultiplier"))
                yield return (RandomLayerArtifacts.ConvThenMaxPool($"ConvMaxPool{i}", Inputs,
                    (int)r[0], (int)r[1], (int)r[2], (int)r[3], (int)r[4], (int)r[5], (int)r[6], (bool)r[7], (bool)r[8]), Describe("Conv + MaxPool", r, false));
            foreach (var (i, r) in Rows(nameof(PackedKernelTests.ConvWeightRangesMatchTheSimulator), "c", "h", "w", "m", "k", "stride", "pad", "weightMagnitude", "pool"))
            {
                int c = (int)r[0], h = (int)r[1], w = (int)r[2], m = (int)r[3], k = (int)r[4], stride = (int)r[5], pad = (int)r[6], magnitude = (int)r[7];
                yield return ((bool)r[8]
                    ? RandomLayerArtifacts.ConvThenMaxPool($"ConvWeights{i}", Inputs, c, h, w, m, k, stride, pad, false, false, magnitude)
                    : RandomLayerArtifacts.Conv($"ConvWeights{i}", Inputs, c, h, w, m, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1, false, false, magnitude),
                    Describe("Conv, weight range", r, false));
            }
            foreach (var (i, r) in Rows(nameof(PackedKernelTests.FullyConnectedSimdAndScalarMatchTheSimulator), "rows", "k", "m", "leaky"))
                yield return (RandomLayerArtifacts.FullyConnected($"FullyConnected{i}", Inputs, (int)r[0], (int)r[1], (int)r[2], (bool)r[3]),
                    Describe("FullyConnected", r, false));
            foreach (var (i, r) in Rows(nameof(PackedKernelTests.PoolingAndAddMatchTheSimulator), "c", "h", "w", "countIncludePad"))
                foreach (var nchw in new[] { false, true })
                    yield return (RandomLayerArtifacts.PoolingAndAdd($"Pools{i}{(nchw ? "Nchw" : "")}", Inputs, (int)r[0], (int)r[1], (int)r[2], (bool)r[3], nchw),
                        Describe("MaxPool, AveragePool, Add", r, nchw));
        }

        /// <summary>A case as its theory row reads, e.g. "Conv(3, 7, 9, 5, …) NCHW".</summary>
        private static string Describe(string kind, object[] row, bool nchw) => $"{kind}({string.Join(", ", row)}){(nchw ? " NCHW" : "")}";

        /// <summary>A theory's InlineData rows, numbered, after checking its parameters are still the ones this reads.</summary>
        private static IEnumerable<(int Index, object[] Row)> Rows(string theory, params string[] parameters)
        {
            var method = typeof(PackedKernelTests).GetMethod(theory)!;
            Assert.Equal(parameters, method.GetParameters().Select(p => p.Name!));
            return method.GetCustomAttributes<InlineDataAttribute>().SelectMany(a => a.GetData(method)).Select((row, i) => (i, row));
        }

        /// <summary>Generates every class into one compilation with the driver, and writes the assembly under the test binaries.</summary>
        private string Compile(List<(string ClassName, string Text)> artifacts)
        {
            var texts = artifacts.Select(a => new GeneratorHarness.InMemoryText($"/project/obj/quantgen/{a.ClassName}.qgart", a.Text)).ToList();
            var options = new GeneratorHarness.OptionsProvider(
                artifacts.ToDictionary(a => $"/project/obj/quantgen/{a.ClassName}.qgart", a => new Dictionary<string, string> { ["build_metadata.AdditionalFiles.QuantGenClassName"] = a.ClassName }),
                new() { ["build_property.RootNamespace"] = "Demo.Models" });
            var driver = GeneratorHarness.Driver(texts, options);
            driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(DriverSource()), out var compilation, out var diagnostics);
            Assert.Empty(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
            var kernels = compilation.SyntaxTrees.Single(t => t.FilePath.EndsWith("QuantGenKernels.g.cs", StringComparison.Ordinal)).ToString();
            Assert.Contains("Arm.Dp.IsSupported", kernels);

            var folder = Path.Combine(AppContext.BaseDirectory, "kernelhost", "cases");
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "KernelCases.dll");
            using (var file = File.Create(path))
            {
                var emit = compilation.Emit(file);
                Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
            }
            return path;
        }

        /// <summary>
        /// QuantGenKernelDriver.Run, which the host calls: one line per path, model and input, "path class input
        /// base64(output floats)", each run on a new instance (no buffer carries values from the run before).
        /// </summary>
        private string DriverSource()
        {
            var s = new StringBuilder("""
                public static class QuantGenKernelDriver
                {
                    public static string Run()
                    {
                        var lines = new System.Text.StringBuilder();
                        foreach (var simd in new[] { true, false })
                        {
                            QuantGen.Generated.QuantGenKernels.SimdEnabled = simd;
                            var path = simd ? "simd" : "scalar";

                """);
            foreach (var (className, _, _, _) in _models)
                s.Append($$"""
                                Record(lines, path, "{{className}}", {{className}}Inputs, x => { var y = new float[Demo.Models.{{className}}.OutputLength]; new Demo.Models.{{className}}().Run(x, y); return y; });

                    """);
            s.Append("""
                        }
                        QuantGen.Generated.QuantGenKernels.SimdEnabled = true;
                        return lines.ToString();
                    }

                    private static void Record(System.Text.StringBuilder lines, string path, string name, string inputs, System.Func<float[], float[]> run)
                    {
                        var each = inputs.Split(' ');
                        for (int i = 0; i < each.Length; i++)
                        {
                            var bytes = System.Convert.FromBase64String(each[i]);
                            var x = new float[bytes.Length / 4];
                            System.Buffer.BlockCopy(bytes, 0, x, 0, bytes.Length);
                            var y = run(x);
                            var result = new byte[y.Length * 4];
                            System.Buffer.BlockCopy(y, 0, result, 0, result.Length);
                            lines.Append(path).Append(' ').Append(name).Append(' ').Append(i).Append(' ').Append(System.Convert.ToBase64String(result)).Append('\n');
                        }
                    }

                """);
            foreach (var (className, _, inputs, _) in _models)
                s.Append($"    private const string {className}Inputs = \"{string.Join(" ", inputs.Select(Base64))}\";\n");
            s.Append("}\n");
            return s.ToString();
        }

        /// <summary>Every (path, model, input) line present once, each output's floats equal to the simulator's, bit for bit.</summary>
        public void AssertMatch(string[] lines)
        {
            var actual = new Dictionary<string, string>();
            foreach (var line in lines)
            {
                var fields = line.Split(' ');
                Assert.True(fields.Length == 4, $"unexpected line from the driver: {line[..Math.Min(line.Length, 200)]}");
                Assert.True(actual.TryAdd($"{fields[0]} {fields[1]} {fields[2]}", fields[3]), $"repeated line: {fields[0]} {fields[1]} {fields[2]}");
            }
            var failures = new List<string>();
            foreach (var path in Paths)
                foreach (var (className, description, _, expected) in _models)
                    for (int i = 0; i < expected.Length; i++)
                    {
                        if (!actual.Remove($"{path} {className} {i}", out var text))
                        {
                            failures.Add($"{path} {description} input {i}: no output");
                            continue;
                        }
                        var got = Floats(text);
                        var want = expected[i];
                        var wrong = Enumerable.Range(0, Math.Max(got.Length, want.Length))
                            .Where(j => j >= got.Length || j >= want.Length || BitConverter.SingleToInt32Bits(got[j]) != BitConverter.SingleToInt32Bits(want[j])).ToList();
                        if (wrong.Count > 0)
                        {
                            int j = wrong[0];
                            failures.Add($"{path} {description} input {i}: {wrong.Count} of {want.Length} outputs differ from the simulator"
                                + (j < got.Length && j < want.Length ? $", first at {j}: {got[j]} instead of {want[j]}" : $" (length {got.Length} instead of {want.Length})"));
                        }
                    }
            Assert.Empty(actual.Keys);
            Assert.True(failures.Count == 0, $"{failures.Count} runs differ:\n{string.Join("\n", failures.Take(40))}");
        }

        private static string Base64(float[] values)
        {
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            return Convert.ToBase64String(bytes);
        }

        private static float[] Floats(string base64)
        {
            var bytes = Convert.FromBase64String(base64);
            var values = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            return values;
        }
    }
}

using System.Diagnostics;
using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using static QuantGen.Tests.BadInput.HostileModels;

namespace QuantGen.Tests.BadInput;

/// <summary>
/// Issue 19's probe classes for geometry and budgets: each hostile model gets its specific QG code (never QG9999,
/// never another exception), in bounded time and allocation; the valid neighbours still compute the ONNX result.
/// </summary>
public sealed class GeometryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-geometry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Load, prepare and run on zeros (the front end plus the executor); the error, if any, within 10 s and 64 MiB.</summary>
    private ModelException? Outcome(byte[] bytes, ShapeOptions? options = null)
    {
        var path = Write("model.onnx", bytes);
        var clock = Stopwatch.StartNew();
        // This thread's allocations: the process-wide count includes the tests running in parallel beside this one.
        long before = GC.GetAllocatedBytesForCurrentThread();
        ModelException? error = null;
        try
        {
            var prepared = ModelPreparation.Prepare(OnnxModelLoader.Load(path, options?.Budget), options);
            var inputs = prepared.Graph.Inputs.ToDictionary(i => i.Name, i => Tensor.Zeros(i.DataType, prepared.Graph.ValueInfos[i.Name].Shape));
            new ReferenceExecutor(prepared).Run(inputs);
        }
        catch (ModelException e)
        {
            error = e;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(allocated < 64L << 20, $"allocated {allocated >> 20} MiB");
        return error;
    }

    private void Refused(string code, byte[] bytes, ShapeOptions? options = null)
    {
        var e = Outcome(bytes, options);
        Assert.True(e is not null, "the model was accepted");
        Assert.True(e.Code == code, $"expected {code}, got {e}");
    }

    private Tensor RunOne(byte[] bytes, Tensor x)
    {
        var prepared = ModelPreparation.Prepare(OnnxModelLoader.Load(Write("ok.onnx", bytes)));
        return new ReferenceExecutor(prepared).Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
    }

    [Fact]
    public void DilationThatWrapsTheWindowExtentIsRefused()
    {
        // (3 − 1)·(2^31 − 1) + 1 wraps to −1 in 32 bits: the old check saw a 5×5 input, a 3×3 kernel and a 7×7 output.
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("dilations", int.MaxValue, int.MaxValue)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("dilations", 1L << 30, 1)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("dilations", 1L << 40, 1)));
    }

    [Fact]
    public void DepthwiseDilationNearTwoToThe31IsRefused() =>
        Refused(ErrorCodes.BadGeometry, Conv([1, 8, 5, 5], [8, 1, 3, 3], Int("group", 8), Ints("dilations", (1L << 31) - 2, (1L << 31) - 2)));

    [Fact]
    public void StridesPadsAndDilationsOutOfRangeAreRefused()
    {
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("strides", (1L << 32) + 1, 1)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("strides", 0, 1)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("dilations", -1, 1)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("pads", 1L << 31, 0, 0, 0)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("pads", -1, 0, 0, 0)));
        // Pads that fit int but would make the output reach past 32-bit positions.
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("pads", int.MaxValue - 2, 0, 0, 0)));
        Refused(ErrorCodes.BadGeometry, Conv([1, 1, 2, 2], [1, 1, 3, 3]));
    }

    [Fact]
    public void GroupBeyondInt32IsRefused() =>
        Refused(ErrorCodes.ValueOutOfRange, Conv([1, 1, 5, 5], [1, 1, 3, 3], Int("group", 1L << 40)));

    [Fact]
    public void RankOneConvInputIsABadShape() =>
        Refused(ErrorCodes.BadShape, Conv([5], [1]));

    [Fact]
    public void ValidDilatedConvStillMatchesTheDefinition()
    {
        // 5×5 input, 3×3 kernel of ones, dilation 2: a 1×1 output summing the 9 taps x[0,2,4]×[0,2,4].
        var x = Tensor.FromArray([1, 1, 5, 5], Enumerable.Range(0, 25).Select(i => (float)i).ToArray());
        var y = RunOne(Single("Conv", [1, 1, 5, 5], [Floats("w", [1, 1, 3, 3], 1f)], [Ints("dilations", 2, 2)]), x);
        Assert.Equal([1, 1, 1, 1], y.Shape);
        Assert.Equal(0 + 2 + 4 + 10 + 12 + 14 + 20 + 22 + 24, y.AsSpan<float>()[0]);
    }

    [Fact]
    public void HugePoolKernelIsRefused()
    {
        Refused(ErrorCodes.BadGeometry, Single("MaxPool", [1, 1, 5, 5], [], [Ints("kernel_shape", 1L << 40, 1)]));
        Refused(ErrorCodes.BadGeometry, Single("AveragePool", [1, 1, 5, 5], [], [Ints("kernel_shape", int.MaxValue, int.MaxValue), Ints("pads", int.MaxValue, int.MaxValue, 0, 0)]));
        Refused(ErrorCodes.BadGeometry, Single("MaxPool", [1, 1, 5, 5], [], [Ints("kernel_shape", 3, 3), Ints("strides", 0, 1)]));
    }

    [Fact]
    public void ConvTransposeStrideZeroAndNegativeDilationAreRefused()
    {
        Refused(ErrorCodes.BadGeometry, Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 3, 3])], [Ints("strides", 0, 1)]));
        Refused(ErrorCodes.BadGeometry, Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 3, 3])], [Ints("dilations", -2, 1)]));
        Refused(ErrorCodes.BadGeometry, Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 3, 3])], [Ints("output_shape", 1L << 40, 4)]));
        Refused(ErrorCodes.BadGeometry, Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 3, 3])], [Ints("strides", (1L << 32) + 1, 1)]));
    }

    [Fact]
    public void ConvTransposeMemoryBombIsRefusedBeforeAllocation() =>
        // 3×3 input, stride 5000: a 10 001 × 10 001 output (10^8 elements, 400 MB) from a ~200-byte model.
        Refused(ErrorCodes.BudgetExceeded, Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 1, 1])], [Ints("strides", 5000, 5000)]));

    [Fact]
    public void ResizeBombsAndNonFiniteScalesAreRefused()
    {
        TensorProto Scales(params float[] s) { var t = Floats("scales", [s.Length]); t.FloatData.Clear(); t.FloatData.AddRange(s); return t; }
        var roi = Floats("roi", [0]);
        Refused(ErrorCodes.BadGeometry, Single("Resize", [1, 1, 4, 4], [roi, Scales(1, 1, 1e10f, 1)], [], opset: 13));
        Refused(ErrorCodes.BadGeometry, Single("Resize", [1, 1, 4, 4], [roi, Scales(1, 1, float.PositiveInfinity, 1)], [], opset: 13));
        Refused(ErrorCodes.BadGeometry, Single("Resize", [1, 1, 4, 4], [roi, Scales(1, 1, float.NaN, 1)], [], opset: 13));
        // sizes giving 2^30 elements: within the hard cap, far over the budget.
        Refused(ErrorCodes.BudgetExceeded, Single("Resize", [1, 1, 4, 4], [roi, null, Longs("sizes", 1, 1, 1 << 15, 1 << 15)], [], opset: 13));
        Refused(ErrorCodes.BadGeometry, Single("Resize", [1, 1, 4, 4], [roi, null, Longs("sizes", 1, 1, 1L << 40, 4)], [], opset: 13));
    }

    [Fact]
    public void HugePadIsRefused()
    {
        Refused(ErrorCodes.BadGeometry, Single("Pad", [1, 4], [Longs("pads", 0, 1L << 40, 0, 0)], []));
        Refused(ErrorCodes.BudgetExceeded, Single("Pad", [1, 4], [Longs("pads", 0, 0, 0, 1 << 28)], []));
    }

    [Fact]
    public void HugeMatMulIsRefused() =>
        // [16384, 1] · [1, 16384]: 2^28 outputs from a 64 KiB weight.
        Refused(ErrorCodes.BudgetExceeded, Single("MatMul", [1 << 14, 1], [Floats("w", [1, 1 << 14])], []));

    [Fact]
    public void HundredThousandNodeGraphIsRefusedUnlessTheBudgetIsRaised()
    {
        var bytes = ReluChain(100_000);
        Refused(ErrorCodes.BudgetExceeded, bytes);
        var budget = new ResourceBudget { MaxNodes = 20_000 };
        var raised = ModelPreparation.Prepare(OnnxModelLoader.Load(Write("chain.onnx", ReluChain(12_000)), budget), new ShapeOptions { Budget = budget });
        Assert.Equal(12_000, raised.Graph.Nodes.Count);
    }

    [Fact]
    public void ActivationBudgetCountsWhatIsLiveAtOnce()
    {
        // A chain of 8 Relu over 1 Mi floats: 8 MiB live at most (input and one output), 32 MiB summed over the graph.
        var graph = ReluChainOver(8, 1 << 20);
        long peak = ResourceChecks.PeakActivationBytes(ModelPreparation.Prepare(OnnxModelLoader.Load(Write("wide.onnx", graph))));
        Assert.Equal(2L * 4 << 20, peak);
        Refused(ErrorCodes.BudgetExceeded, graph, new ShapeOptions { Budget = new ResourceBudget { MaxActivationBytes = peak - 1 } });
    }

    private static byte[] ReluChainOver(int count, int width)
    {
        var graph = new GraphProto { Name = "wide", Input = { ModelBuilder.Value("x", 1, width) }, Output = { ModelBuilder.Value($"t{count}", 1, width) } };
        for (int i = 0; i < count; i++)
            graph.Node.Add(new NodeProto { Name = $"r{i}", OpType = "Relu", Input = { i == 0 ? "x" : $"t{i}" }, Output = { $"t{i + 1}" } });
        return Google.Protobuf.MessageExtensions.ToByteArray(new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } }, Graph = graph });
    }

    [Theory]
    // ONNX: a step past the axis takes only the start element (numpy x[2:8:huge] == [2], x[8:2:-huge] == [8]).
    [InlineData(2, 8, long.MaxValue, new float[] { 2 })]
    [InlineData(8, 2, long.MinValue, new float[] { 8 })]
    [InlineData(-1, long.MinValue, long.MinValue, new float[] { 9 })]
    [InlineData(0, long.MaxValue, long.MaxValue, new float[] { 0 })]
    [InlineData(1, 10, 3, new float[] { 1, 4, 7 })]
    public void SliceStepExtremesFollowTheOnnxDefinition(long start, long end, long step, float[] expected)
    {
        var bytes = Single("Slice", [10], [Longs("starts", start), Longs("ends", end), Longs("axes", 0), Longs("steps", step)], []);
        var x = Tensor.FromArray([10], Enumerable.Range(0, 10).Select(i => (float)i).ToArray());
        Assert.Equal(expected, RunOne(bytes, x).AsSpan<float>().ToArray());
    }
}

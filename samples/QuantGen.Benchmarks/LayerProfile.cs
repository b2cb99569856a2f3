using System.Diagnostics;
using System.Reflection;
using QuantGen.Benchmarks.Models;

namespace QuantGen.Benchmarks;

/// <summary>
/// Where one Run's time goes: times each generated layer method on its own (a profiling aid, not a benchmark; the
/// layer methods are private, so this reaches them by reflection, which the benchmark itself never does).
/// <c>QuantGen.Benchmarks layers fashion_cnn</c> prints µs per call of every parameterless layer method (the
/// Quantize/Dequantize edges take spans and are covered by the whole-Run line).
/// </summary>
internal static class LayerProfile
{
    public static void Print(string model, int calls = 4000)
    {
        object instance = model switch
        {
            "fashion_mlp" => new FashionMlp(),
            "fashion_cnn" => new FashionCnn(),
            "fashion_cnn_factorized" => new FashionCnnFactorized(),
            "fashion_mobilenet_factorized" => new FashionMobilenetFactorized(),
            "fashion_mobilenet" => new FashionMobilenet(),
            "embedding_model" => new EmbeddingModel(),
            "fashion_transformer" => new FashionTransformer(),
            _ => throw new ArgumentException("unknown model " + model),
        };
        var type = instance.GetType();
        int inputLength = (int)type.GetField("InputLength")!.GetValue(null)!, outputLength = (int)type.GetField("OutputLength")!.GetValue(null)!;
        var input = new float[inputLength];
        var random = new Random(1);
        for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle();
        var output = new float[outputLength];
        var run = type.GetMethod("Run")!.CreateDelegate<RunDelegate>(instance);
        var layers = type.GetMethods(BindingFlags.Instance | BindingFlags.NonPublic)
            .Where(m => m.GetParameters().Length == 0 && m.ReturnType == typeof(void) && m.DeclaringType == type)
            .OrderBy(m => m.MetadataToken)
            .Select(m => (m.Name, Call: m.CreateDelegate<Action>(instance)))
            .ToList();

        double Time(Action action)
        {
            // Warm up by time, not by count: tiered compilation promotes hot methods after a delay of about 100 ms.
            var clock = Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < 400) action();
            // The best of several rounds: on a shared machine the slower rounds measure the neighbours.
            double best = double.MaxValue;
            for (int round = 0; round < 9; round++)
            {
                clock.Restart();
                for (int i = 0; i < calls / 8; i++) action();
                best = Math.Min(best, clock.Elapsed.TotalMicroseconds / (calls / 8));
            }
            return best;
        }

        double whole = Time(() => run(input, output));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) run(input, output);
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        Console.WriteLine($"{model}: Run {whole:0.00} µs, {allocated} bytes allocated per Run on the calling thread");
        double sum = 0;
        foreach (var (name, call) in layers)
        {
            double us = Time(call);
            sum += us;
            long layerBefore = GC.GetAllocatedBytesForCurrentThread();
            call();
            if (GC.GetAllocatedBytesForCurrentThread() != layerBefore) Console.WriteLine($"  {name} allocates {GC.GetAllocatedBytesForCurrentThread() - layerBefore} bytes");
            Console.WriteLine($"  {name,-48} {us,9:0.00} µs  {100 * us / whole,5:0.0}%");
        }
        Console.WriteLine($"  {"(quantize, dequantize, call overhead)",-48} {whole - sum,9:0.00} µs");
    }

    private delegate void RunDelegate(ReadOnlySpan<float> input, Span<float> output);
}

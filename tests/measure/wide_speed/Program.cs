// Median microseconds per Run (batch 1, one thread) over 7 rounds of 200 Runs on one Fashion-MNIST-sized input.
// Usage (from the repository root): dotnet run -c Release --project tests/measure/wide_speed
using System.Diagnostics;
using QuantGen.Generated;
using WideSpeed;

var input = new float[784];
for (int i = 0; i < input.Length; i++) input[i] = (i * 37 % 256) / 255f;
var output = new float[10];

Console.WriteLine("| model | A8 (SIMD) µs | A16 AVX2 µs | A16 scalar µs |");
Console.WriteLine("|---|---|---|---|");
Row("fashion_cnn", new CnnA8().Run, new CnnA16().Run);
Row("fashion_mobilenet", new MobilenetA8().Run, new MobilenetA16().Run);

void Row(string name, RunModel a8, RunModel a16)
{
    double narrow = Measure(a8);
    QuantGenWideKernels.SimdEnabled = true;
    double wide = Measure(a16);
    QuantGenWideKernels.SimdEnabled = false;
    double scalar = Measure(a16);
    QuantGenWideKernels.SimdEnabled = true;
    Console.WriteLine($"| {name} | {narrow:F0} | {wide:F0} | {scalar:F0} |");
}

double Measure(RunModel run)
{
    for (int i = 0; i < 50; i++) run(input, output);
    var rounds = new double[7];
    for (int r = 0; r < rounds.Length; r++)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 200; i++) run(input, output);
        rounds[r] = clock.Elapsed.TotalMicroseconds / 200;
    }
    Array.Sort(rounds);
    return rounds[rounds.Length / 2];
}

delegate void RunModel(ReadOnlySpan<float> input, Span<float> output);

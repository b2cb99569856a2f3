using System.Numerics;
using System.Numerics.Tensors;

namespace QuantGen.Core.Training;

/// <summary>Label-free distillation losses: the student's output against the float teacher's, each with its gradient.</summary>
internal static class DistillationLoss
{
    /// <summary>Mean squared error over the elements: L = Σ (y − t)² / N, ∂L/∂y = 2 (y − t) / N.</summary>
    public static (double Loss, T[] Gradient) MeanSquaredError<T>(T[] student, T[] teacher) where T : IFloatingPointIeee754<T>
    {
        var gradient = new T[student.Length];
        double loss = 0;
        T twoOverN = T.CreateChecked(2.0 / student.Length);
        for (int i = 0; i < student.Length; i++)
        {
            T d = student[i] - teacher[i];
            loss += double.CreateChecked(d * d);
            gradient[i] = twoOverN * d;
        }
        return (loss / student.Length, gradient);
    }

    /// <summary>
    /// KL(softmax(teacher) ‖ softmax(student)) on logits, per row of <paramref name="classes"/>:
    /// L = Σ q (log q − log p), ∂L/∂z = p − q (p the student's, q the teacher's distribution).
    /// </summary>
    public static (double Loss, T[] Gradient) KullbackLeibler<T>(T[] studentLogits, T[] teacherLogits, int classes) where T : IFloatingPointIeee754<T>
    {
        var gradient = new T[studentLogits.Length];
        var p = new T[classes];
        var q = new T[classes];
        double loss = 0;
        for (int r = 0; r < studentLogits.Length; r += classes)
        {
            TensorPrimitives.SoftMax<T>(studentLogits.AsSpan(r, classes), p);
            TensorPrimitives.SoftMax<T>(teacherLogits.AsSpan(r, classes), q);
            T logSumP = LogSumExp<T>(studentLogits.AsSpan(r, classes)), logSumQ = LogSumExp<T>(teacherLogits.AsSpan(r, classes));
            for (int i = 0; i < classes; i++)
            {
                T logQ = teacherLogits[r + i] - logSumQ, logP = studentLogits[r + i] - logSumP;
                loss += double.CreateChecked(q[i] * (logQ - logP));
                gradient[r + i] = p[i] - q[i];
            }
        }
        return (loss, gradient);
    }

    private static T LogSumExp<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max<T>(x), sum = T.Zero;
        foreach (var v in x) sum += T.Exp(v - max);
        return max + T.Log(sum);
    }
}

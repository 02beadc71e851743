namespace Comety.LoadTest;

/// <summary>The rooms clients join: client <c>c</c> of a fleet is in room <c>c % Count</c>.</summary>
internal static class Rooms
{
    /// <summary>How many rooms there are.</summary>
    public const int Count = 100;

    /// <summary>The channel or group name of a room.</summary>
    public static string Name(int room) => "room-" + room.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

using Comety.Chat.Chat;
using Comety.Chat.Controllers;

namespace Comety.Chat;

/// <summary>Builds the chat application; the tests start it the same way.</summary>
public static class ChatApplication
{
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddControllersWithViews(options =>
            options.Filters.Add(new Microsoft.AspNetCore.Mvc.AutoValidateAntiforgeryTokenAttribute()));
        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddSession(options =>
        {
            options.Cookie.Name = "comety-chat";
            options.Cookie.HttpOnly = true;
            options.Cookie.IsEssential = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });
        builder.Services.AddComety();
        builder.Services.AddSingleton<RoomStore>();
        builder.Services.AddSingleton<ChatService>();
        builder.Services.AddHostedService<ChatLifecycle>();

        var app = builder.Build();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error");
        }

        app.UseStaticFiles();
        app.UseRouting();
        app.UseSession();
        app.MapControllers();
        app.MapComety<ChatUpdatesController>("chat/updates");
        return app;
    }
}

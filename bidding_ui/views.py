from django.shortcuts import render


def home(request):
    return render(request, "bidding_ui/home.html")
